"""`manage.py audit_integrate [--follow]`: seal pending audit events into the chain."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from audit.chain import chain_integrate
from audit.checkpoints import checkpoint_maybe_write


class Command(BaseCommand):
    """Integrate once, or keep integrating (a dedicated integrator process)."""

    help = "Seal pending audit events into the hash chain (and write due checkpoints)."

    def add_arguments(self, parser: Any) -> None:
        """--follow to loop; --interval between empty polls."""
        parser.add_argument("--follow", action="store_true")
        parser.add_argument("--interval", type=float, default=0.2, help="seconds between polls")

    def handle(self, *args: Any, **options: Any) -> None:
        """Seal what is pending; with --follow, forever."""
        while True:
            sealed = chain_integrate()
            if sealed:
                checkpoint_maybe_write()
            if not options["follow"]:
                self.stdout.write(f"Sealed {sealed} events.")
                return
            if not sealed:
                close_old_connections()
                time.sleep(options["interval"])
