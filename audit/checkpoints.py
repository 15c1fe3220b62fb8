"""Signed checkpoints of the chain head, written to WORM storage (filled in below)."""


def checkpoint_maybe_write() -> None:
    """Write a checkpoint when the head has passed the next multiple of AUDIT_CHECKPOINT_EVERY."""
