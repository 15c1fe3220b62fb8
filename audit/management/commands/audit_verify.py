"""`manage.py audit_verify [--since-seq N]`: recompute the chain and check every checkpoint."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from audit.chain import chain_head
from audit.verify import chain_verify


class Command(BaseCommand):
    """Exit 0 with "OK: N events, head seq S hash H"; exit 1 naming the first failing seq."""

    help = "Verify every hash, link, seq and checkpoint of the audit chain."

    def add_arguments(self, parser: Any) -> None:
        """--since-seq to resume, --batch-size, --full for the pure-Python reference path."""
        parser.add_argument("--since-seq", type=int, default=1, help="start at this seq (resume)")
        parser.add_argument("--batch-size", type=int, default=20_000)
        parser.add_argument(
            "--full", action="store_true", help="re-serialise every event in Python (slower)"
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the verification and report."""
        since = max(1, options["since_seq"])
        total = max(0, chain_head().seq - since + 1)
        with tqdm(
            total=total, unit="ev", disable=options["no_progress"], file=self.stderr._out
        ) as bar:
            result = chain_verify(
                since_seq=since,
                batch_size=options["batch_size"],
                fast=False if options["full"] else None,
                progress=bar.update,
            )
        if not result.ok:
            failure = result.failure
            raise CommandError(
                f"FAIL at seq {failure.seq}: {failure.kind}: {failure.message}", returncode=1
            )
        self.stdout.write(
            f"OK: {result.events} events, head seq {result.head_seq} hash {result.head_hash}"
        )
        self.stdout.write(
            f"   {result.checkpoints} checkpoints verified; {result.pending} events pending "
            "integration (not yet chained)"
        )
