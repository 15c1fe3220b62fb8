"""A whole receptionist on loopback: Daphne serving our app, the fake realtime server, a fake
Twilio REST endpoint and fake Twilio media-stream calls, sharing one real database.

Used by the end-to-end tests, `manage.py simulate_call` and the voice benchmark. The Daphne
process is a real subprocess, so the database must be one both sides can see: a SQLite file in
a temporary directory (or a Postgres DATABASE_URL), migrated and seeded through this module's
CLI in a subprocess (`python -m tests.fakes.stack seed|report`). Calls are placed the way
Twilio places them: a signed POST to the incoming-call webhook, whose TwiML carries the
single-use stream token, then a signed websocket upgrade with the token in `start`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import http.server
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from twilio.request_validator import RequestValidator

from tests.fakes.realtime_server import FakeRealtimeServer
from tests.fakes.twilio_client import FakeTwilioCall

ROOT = Path(__file__).resolve().parents[2]
AUTH_TOKEN = "e2e-auth-token"
ACCOUNT_SID = "AC" + "e" * 32
PUBLIC_BASE_URL = "https://voice.clarion.example"
PRACTICE_NUMBER = "+12015550142"
MAIN_LINE = "+12015550143"
CALLER_NUMBER = "+12015559876"
PATIENT = {"name": "Jane Doe", "date_of_birth": "1980-03-03"}
SETTINGS_MODULE = "tests.fakes.e2e_settings"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def new_call_sid() -> str:
    """A fresh Twilio-shaped CallSid."""
    return "CA" + uuid.uuid4().hex


class FakeTwilioRest:
    """Twilio's REST API, enough for a live-call redirect: records each request, answers 200."""

    def __init__(self, *, fail: bool = False) -> None:
        self.requests: list[dict] = []
        self.fail = fail
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                owner.requests.append(
                    {"path": self.path, "form": dict(urllib.parse.parse_qsl(body))}
                )
                status = 500 if owner.fail else 200
                sid = self.path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".json")
                payload = json.dumps(
                    {"sid": sid, "status": "in-progress", "account_sid": ACCOUNT_SID}
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeTwilioRest:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def django_env(database_url: str, **extra: str) -> dict[str, str]:
    """Environment for a Django subprocess (Daphne or this module's CLI) on `database_url`."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
            "DATABASE_URL": database_url,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "OPENAI_API_KEY": "sk-fake-e2e",
            "PYTHONPATH": str(ROOT),
            "VOICE_STRICT_BAA": "true",
        }
    )
    env.pop("REDIS_URL", None)
    env.update(extra)
    return env


def run_cli(database_url: str, *args: str, **extra_env: str) -> Any:
    """Run this module's CLI in a Django subprocess; return its JSON output."""
    out = subprocess.run(  # noqa: S603 -- our own interpreter and module, fixed arguments
        [sys.executable, "-m", "tests.fakes.stack", *args],
        env=django_env(database_url, **extra_env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if out.returncode != 0:
        raise RuntimeError(f"stack {args[0]} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


class VoiceStack:
    """Daphne + fakes on loopback; `async with VoiceStack() as stack: await stack.call(...)`."""

    def __init__(
        self,
        *,
        database_url: str | None = None,
        realtime_url: str | None = None,
        daphne_args: tuple[str, ...] = (),
        asgi_app: str = "config.asgi:application",
        extra_env: dict[str, str] | None = None,
        seed: bool = True,
        record_calls: bool = False,
    ) -> None:
        self.record_calls = record_calls
        self._tmp = tempfile.TemporaryDirectory(prefix="clarion-voice-")
        self.database_url = database_url or f"sqlite:///{self._tmp.name}/voice.sqlite3"
        self.external_realtime_url = realtime_url
        self.daphne_args = daphne_args
        self.asgi_app = asgi_app
        self.extra_env = extra_env or {}
        self.seed = seed
        self.realtime: FakeRealtimeServer | None = None
        self.rest = FakeTwilioRest()
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.log_path = Path(self._tmp.name) / "daphne.log"
        self.seeded: dict = {}

    @property
    def base(self) -> str:
        """http origin of the Daphne process."""
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> VoiceStack:
        if self.seed:
            await asyncio.to_thread(run_cli, self.database_url, "migrate")
            self.seeded = await asyncio.to_thread(
                run_cli, self.database_url, "seed-recording" if self.record_calls else "seed"
            )
        if self.external_realtime_url is None:
            self.realtime = await FakeRealtimeServer().__aenter__()
            realtime_http = self.realtime.http_url
        else:
            realtime_http = self.external_realtime_url
        self.rest.__enter__()
        env = django_env(
            self.database_url,
            OPENAI_BASE_URL=realtime_http,
            TWILIO_API_BASE_URL=self.rest.url,
            **self.extra_env,
        )
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603, ASYNC220 -- our own daphne; Popen returns at once
            [
                str(Path(sys.executable).parent / "daphne"),
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                *self.daphne_args,
                self.asgi_app,
            ],
            env=env,
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        await self._wait_listening()
        return self

    async def _wait_listening(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited:\n{self.log()[-3000:]}")
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            await asyncio.sleep(0.1)
        raise TimeoutError("daphne did not start listening")

    async def __aexit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                await asyncio.to_thread(self.process.wait, 10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self._log.close()
        self.rest.__exit__()
        if self.realtime is not None:
            await self.realtime.__aexit__()
        self._tmp.cleanup()

    def log(self) -> str:
        """Everything Daphne and our app logged so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def post_signed(
        self, path: str, form: dict, *, signature: str | None = None
    ) -> tuple[int, str]:
        """POST a form to our app signed like Twilio (for PUBLIC_BASE_URL + path)."""
        if signature is None:
            signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_BASE_URL + path, form)
        request = urllib.request.Request(  # noqa: S310 -- loopback http to our own server
            self.base + path,
            data=urllib.parse.urlencode(form).encode(),
            headers={
                "X-Twilio-Signature": signature,
                "Content-Type": "application/x-www-form-urlencoded",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    async def incoming(self, call_sid: str) -> str:
        """Twilio's incoming-call webhook for `call_sid`; return the stream token from the TwiML."""
        form = {
            "CallSid": call_sid,
            "AccountSid": ACCOUNT_SID,
            "From": CALLER_NUMBER,
            "To": PRACTICE_NUMBER,
            "CallStatus": "ringing",
            "Direction": "inbound",
        }
        status, body = await asyncio.to_thread(self.post_signed, "/voice/twilio/incoming/", form)
        match = re.search(r'<Parameter name="token" value="([^"]+)"', body)
        if status != 200 or match is None:
            log = "\n".join(self.log().splitlines()[-15:])
            raise RuntimeError(f"webhook did not stream the call ({status}): {body[:300]}\n{log}")
        return match.group(1)

    def media_call(self, call_sid: str, token: str, **kwargs: Any) -> FakeTwilioCall:
        """A fake Twilio media stream for this call (not yet connected)."""
        return FakeTwilioCall(
            f"ws://127.0.0.1:{self.port}/voice/twilio/stream/",
            signed_url=PUBLIC_BASE_URL.replace("https://", "wss://") + "/voice/twilio/stream/",
            auth_token=AUTH_TOKEN,
            call_sid=call_sid,
            stream_sid="MZ" + call_sid[2:],
            token=token,
            **kwargs,
        )

    async def call(self, **kwargs: Any) -> FakeTwilioCall:
        """Place a call: webhook, then connect its media stream (connected + start)."""
        call_sid = new_call_sid()
        token = await self.incoming(call_sid)
        call = self.media_call(call_sid, token, **kwargs)
        await call.connect()
        return call

    async def report(self, call_sid: str) -> dict:
        """The call's record and audit events, read back through Django in a subprocess."""
        return await asyncio.to_thread(run_cli, self.database_url, "report", call_sid)


# -- CLI run inside Django subprocesses -----------------------------------------------------
def _seed(*, record_calls: bool = False) -> dict:
    from clinic import services as clinic_services
    from clinic.models import Practice
    from voiceagent.models import PracticeVoiceSettings

    existing = Practice.objects.filter(slug="e2e-maple").first()
    if existing is not None:
        return {"practice_id": str(existing.pk)}
    week = {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    practice = clinic_services.practice_create(
        actor=None,
        name="Maple Street Clinic",
        slug="e2e-maple",
        main_phone=MAIN_LINE,
        address="1 Main Street, Springfield",
        opening_hours=week,
    )
    clinic_services.practice_phone_number_create(
        actor=None, practice=practice, e164=PRACTICE_NUMBER
    )
    PracticeVoiceSettings.objects.create(
        practice=practice, agent_enabled=True, record_calls=record_calls
    )
    provider = clinic_services.provider_create(
        actor=None, practice=practice, first_name="Ada", last_name="Grey", title="Dr."
    )
    patient = clinic_services.patient_create(
        actor=None,
        practice=practice,
        first_name="Jane",
        last_name="Doe",
        date_of_birth=dt.date(1980, 3, 3),
        phone=CALLER_NUMBER,
    )
    from django.utils import timezone

    start = (timezone.now() + dt.timedelta(days=2)).replace(
        hour=15, minute=0, second=0, microsecond=0
    )
    appointment = clinic_services.appointment_book(
        actor=None, patient=patient, provider=provider, start=start, reason="Check-up"
    )
    return {
        "practice_id": str(practice.pk),
        "patient_id": str(patient.pk),
        "appointment_id": str(appointment.pk),
        "appointment_start": appointment.start.isoformat(),
    }


def _report(call_sid: str) -> dict:
    from audit.models import AuditEvent
    from clinic.models import Appointment
    from voiceagent.models import Call

    call = Call.objects.get(call_sid=call_sid)
    turns = list(call.turns.order_by("seq"))
    events = AuditEvent.objects.filter(actor_id=call_sid).order_by("pk")
    return {
        "recording": _recording_summary(call),
        "outcome": call.outcome,
        "transferred": call.transferred,
        "verified": call.verified_patient_id is not None,
        "connected": call.connected_at is not None,
        "ended": call.ended_at is not None,
        "provider": call.provider,
        "tool_calls": call.tool_calls,
        "turns": [{"role": t.role, "text": t.text} for t in turns],
        "audit": [
            {"action": int(e.action), "resource_type": e.resource_type, "detail": e.detail}
            for e in events
        ],
        "appointments": [
            a.start.isoformat()
            for a in Appointment.objects.filter(practice_id=call.practice_id).order_by("start")
        ],
    }


def _recording_summary(call) -> dict | None:
    """Channels, format and audio length of the call's decrypted WAV, if it was recorded."""
    import struct

    from voiceagent.models import CallRecording
    from voiceagent.recording import recording_read

    recording = CallRecording.objects.filter(call=call).first()
    if recording is None:
        return None
    wav = recording_read(recording=recording, actor=None)
    audio_format, channels, rate = struct.unpack_from("<HHI", wav, 20)
    return {
        "riff": wav[:4] == b"RIFF" and wav[8:12] == b"WAVE",
        "format": audio_format,
        "channels": channels,
        "rate": rate,
        "bytes": len(wav),
    }


def main() -> None:
    """`python -m tests.fakes.stack migrate|seed|seed-recording|report CALL_SID` (inside a Django env)."""
    import django

    django.setup()
    command = sys.argv[1]
    if command == "migrate":
        from django.core.management import call_command

        with contextlib.redirect_stdout(sys.stderr):
            call_command("migrate", verbosity=0, interactive=False)
        result: Any = {"ok": True}
    elif command in ("seed", "seed-recording"):
        result = _seed(record_calls=command == "seed-recording")
    elif command == "report":
        result = _report(sys.argv[2])
    else:
        raise SystemExit(f"unknown command {command}")
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
