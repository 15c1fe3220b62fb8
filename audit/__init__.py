"""The hash-chained audit trail of every PHI read and write."""
