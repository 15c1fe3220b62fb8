"""`manage.py audit_checkpoint`: seal pending events, sign the head, write it to WORM storage."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from audit.chain import chain_integrate
from audit.checkpoints import checkpoint_verifier_key, checkpoint_write


class Command(BaseCommand):
    """Write a signed checkpoint of the current chain head (C2SP signed note)."""

    help = "Sign the audit chain head with Ed25519 and store it in WORM storage."

    def add_arguments(self, parser: Any) -> None:
        """--show-key prints the verifier key instead."""
        parser.add_argument("--show-key", action="store_true", help="print the verifier key")

    def handle(self, *args: Any, **options: Any) -> None:
        """Integrate, then checkpoint."""
        if options["show_key"]:
            self.stdout.write(checkpoint_verifier_key())
            return
        chain_integrate()
        checkpoint = checkpoint_write()
        if checkpoint is None:
            self.stdout.write("Nothing to do: the chain is empty or its head is checkpointed.")
            return
        chain_integrate()  # seal the CHECKPOINT_WRITTEN event itself
        self.stdout.write(f"Checkpoint written: seq {checkpoint.seq} hash {checkpoint.hash}")
