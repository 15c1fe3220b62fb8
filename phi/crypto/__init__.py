"""Envelope encryption for PHI: wire format, key providers, data keys, blind indexes.

Hierarchy: root key in a KMS/HSM (or a local master-key file) -> key-encryption key (KEK)
-> one data-encryption key (DEK) per key scope (practice), purpose and version, stored wrapped
in `phi.DataKey`. Unwrapped DEKs live in a bounded in-process cache: the hot path makes no
KMS call and no query once a key has been seen.
"""
