"""Protecting PHI: envelope encryption, encrypted model fields, blind indexes, redaction.

Invariant: plaintext PHI never reaches the database, a log, or a processor without a BAA.
`phi` knows nothing of the clinic: it takes model classes, ids and key scopes.
"""
