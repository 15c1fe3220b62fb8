"""Streaming exports of audit events (CSV, JSON Lines) and the accounting of disclosures.

Invariant: exports stream: rows come from a server-side cursor in chunks
(`iterator(chunk_size=...)`) as tuples, never model instances, and are written line by line,
so memory stays flat however many rows are exported. Every row carries seq and hash, so an
exported row can be matched against the chain.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast

from audit.actions import AuditAction
from audit.chain import format_ts

CHUNK = 5000
EXPORT_COLUMNS = (
    "link__seq",
    "ts",
    "actor_type",
    "actor_id",
    "actor_label",
    "action",
    "resource_type",
    "resource_id",
    "practice_id",
    "request_id",
    "ip",
    "link__prev_hash",
    "link__hash",
)
HEADER = tuple(
    c.removeprefix("link__")
    for c in (*EXPORT_COLUMNS[:6], "action_name", *EXPORT_COLUMNS[6:], "detail")
)


def _action_names() -> dict[int, str]:
    return {int(a): a.name for a in AuditAction}


def _rows(events: QuerySet) -> Iterator[tuple]:
    # detail as its stored canonical text: no parse and re-dump per row.
    query = events.annotate(detail_text=Cast("detail", TextField())).values_list(
        *EXPORT_COLUMNS, "detail_text"
    )
    names = _action_names()
    for row in query.iterator(chunk_size=CHUNK):
        seq, ts, actor_type, actor_id, actor_label, action, *rest = row
        yield (
            seq,
            format_ts(ts),
            actor_type,
            actor_id,
            actor_label,
            action,
            names.get(action, ""),
            *rest,
        )


def export_csv_lines(events: QuerySet) -> Iterator[str]:
    """CSV text, one line per event after a header line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for row in _rows(events):
        writer.writerow(row)
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def export_jsonl_lines(events: QuerySet) -> Iterator[str]:
    """JSON Lines: one object per event (detail as a nested object)."""
    chunk: list[str] = []
    for row in _rows(events):
        record = dict(zip(HEADER[:-1], row[:-1], strict=True))
        # Spliced in as text: the stored detail is already canonical JSON.
        line = (
            json.dumps(record, ensure_ascii=False)[:-1] + ',"detail":' + (row[-1] or "{}") + "}\n"
        )
        chunk.append(line)
        if len(chunk) >= 1000:
            yield "".join(chunk)
            chunk.clear()
    if chunk:
        yield "".join(chunk)
