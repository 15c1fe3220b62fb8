"""Records of the phone receptionist: stream tokens (more models follow with phi/clinic).

Invariant: a StreamToken row stores only the SHA-256 of its token, so a database reader cannot
open a media stream; each token is consumed by one conditional UPDATE (single use across
processes).
"""

import uuid

from django.db import models


class StreamToken(models.Model):
    """A single-use, short-lived grant to open one call's media stream."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    token_hash = models.CharField(max_length=64, unique=True)
    call_sid = models.CharField(max_length=64, db_index=True)
    # Plain ids: a token outlives nothing and must not hold rows in place.
    practice_id = models.UUIDField()
    call_id = models.UUIDField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "stream token"

    def __str__(self) -> str:
        return f"stream token for {self.call_sid}"
