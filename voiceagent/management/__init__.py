"""Management commands of the voice receptionist."""
