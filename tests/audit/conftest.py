"""Audit test fixtures: the audited test model, users, helpers."""

from __future__ import annotations

import uuid

import pytest

from audit.actions import AuditAction
from tests.audit.auditapp.models import AuditedThing


@pytest.fixture
def audited_thing_model(db):
    """The audited test model (tests.audit.auditapp, installed by the test settings)."""
    return AuditedThing


@pytest.fixture
def practice_id() -> uuid.UUID:
    """A practice id (audit knows practices only by id)."""
    return uuid.uuid4()


@pytest.fixture
def worm_dir(settings, tmp_path):
    """A fresh local WORM folder and signing key for this test."""
    settings.AUDIT_WORM_BACKEND = "local"
    settings.AUDIT_WORM_DIR = tmp_path / "worm"
    settings.AUDIT_CHECKPOINT_KEY_FILE = tmp_path / "keys" / "audit-checkpoint.key"
    settings.AUDIT_CHECKPOINT_KEY_AUTOCREATE = True
    return tmp_path / "worm"


def record_events(n: int, *, practice_id: str = "practice-1", resource_id: str = "patient-1"):
    """Record n PATIENT_VIEW events (pending until integrated)."""
    from audit.services import audit_record

    return [
        audit_record(
            action=AuditAction.PATIENT_VIEW,
            actor=None,
            resource_type="clinic.patient",
            resource_id=resource_id,
            practice_id=practice_id,
            detail={"i": i},
        )
        for i in range(n)
    ]


@pytest.fixture(scope="session")
def moto_s3_endpoint():
    """`moto_server` (moto[server]) as a subprocess on a free loopback port; yields its URL."""
    import os
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    moto_bin = Path(sys.executable).parent / "moto_server"
    process = subprocess.Popen(  # noqa: S603 - our own venv's binary, fixed arguments
        [str(moto_bin), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
