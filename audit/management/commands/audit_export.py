"""`manage.py audit_export --since --until [--patient ID] --format csv|jsonl [--output FILE]`."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from audit.admin import parse_when
from audit.exports import export_csv_lines, export_jsonl_lines
from audit.selectors import audit_event_list
from audit.services import audit_export_record


class Command(BaseCommand):
    """Stream audit events (all practices: an operator's command) to a file or stdout."""

    help = "Export audit events as CSV or JSON Lines, streamed; the export itself is audited."

    def add_arguments(self, parser: Any) -> None:
        """Date range, patient, practice, format, output."""
        parser.add_argument("--since", help="YYYY-MM-DD or ISO datetime (inclusive)")
        parser.add_argument("--until", help="YYYY-MM-DD (inclusive day) or ISO datetime")
        parser.add_argument("--patient", help="patient id (the event's resource id)")
        parser.add_argument("--practice", help="practice id")
        parser.add_argument("--format", choices=["csv", "jsonl"], default="csv")
        parser.add_argument("--output", help="file to write (default: stdout)")

    def handle(self, *args: Any, **options: Any) -> None:
        """Record the export, then stream it."""
        try:
            since = parse_when(options["since"])
            until = parse_when(options["until"], end=True)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        events = audit_event_list(
            practice_ids=[options["practice"]] if options["practice"] else None,
            since=since,
            until=until,
            patient_id=options["patient"],
        )
        filters = {k: options[k] for k in ("since", "until", "patient", "practice") if options[k]}
        audit_export_record(
            actor=None,
            kind="events",
            fmt=options["format"],
            filters=filters,
            practice_id=options["practice"],
        )
        lines = export_csv_lines if options["format"] == "csv" else export_jsonl_lines
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8", newline="") as out:
                _write(lines(events), out, progress=True)
        else:
            _write(lines(events), sys.stdout, progress=False)


def _write(chunks: Any, out: Any, *, progress: bool) -> None:
    with tqdm(unit="chunk", disable=not progress, file=sys.stderr) as bar:
        for chunk in chunks:
            out.write(chunk)
            bar.update(1)
