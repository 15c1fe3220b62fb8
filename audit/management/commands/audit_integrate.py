"""`manage.py audit_integrate [--follow]`: seal pending audit events into the chain."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from audit.chain import chain_integrate, chain_integrate_round
from audit.checkpoints import checkpoint_maybe_write


class Command(BaseCommand):
    """Integrate once, or keep integrating (a dedicated integrator process)."""

    help = "Seal pending audit events into the hash chain (and write due checkpoints)."

    def add_arguments(self, parser: Any) -> None:
        """--follow to loop; --interval between rounds."""
        parser.add_argument("--follow", action="store_true")
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help="seconds between rounds while following (default AUDIT_INTEGRATE_BATCH_WAIT); "
            "events committed meanwhile are sealed together, which costs less per event",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Seal what is pending; with --follow, forever."""
        interval = options["interval"]
        if interval is None:
            interval = settings.AUDIT_INTEGRATE_BATCH_WAIT
        while True:
            # Once: everything pending now. Following: full batches until a short one, then a
            # pause, so under load each round seals one large batch.
            sealed = chain_integrate_round() if options["follow"] else chain_integrate()
            if sealed:
                checkpoint_maybe_write()
            if not options["follow"]:
                self.stdout.write(f"Sealed {sealed} events.")
                return
            if not sealed:
                close_old_connections()
            # Pause after every round, not only idle ones: under load the next round then seals
            # one large batch instead of many small ones.
            time.sleep(interval)
