"""`manage.py simulate_call`: one scripted phone call, end to end, with no outside account.

Starts the loopback stack (a Daphne process serving this project on a temporary SQLite
database, the fake OpenAI Realtime server and fake Twilio), places a call through the signed
webhook and media stream, and lets the scripted "model" verify the caller, list and reschedule
an appointment and hang up. Prints the transcript (redacted) and the call's audit events.
The fakes live in tests/fakes, so run it from a source checkout.
"""

from __future__ import annotations

import asyncio
import json

from django.core.management.base import BaseCommand, CommandError


async def _script(conn) -> None:
    from tests.fakes.stack import PATIENT

    await conn.wait_for("response.create")
    await conn.say("Maple Street Clinic, how can I help?", audio_ms=300)
    await conn.caller_said("Hi, it's Jane Doe, born March third 1980. Can I move my appointment?")
    await conn.call_function("verify_identity", PATIENT)
    await conn.wait_for("response.create")
    listed = await conn.call_function("list_appointments", {})
    await conn.wait_for("response.create")
    await conn.say("I see your appointment. Let me find another time.", audio_ms=300)
    slots = await conn.call_function("find_open_slots", {})
    await conn.wait_for("response.create")
    await conn.caller_said("The first one works.")
    await conn.call_function(
        "reschedule_appointment",
        {
            "appointment_reference": listed["appointments"][0]["reference"],
            "slot_reference": slots["slots"][0]["reference"],
        },
    )
    await conn.wait_for("response.create")
    await conn.say("You're all set. Goodbye, Jane!", audio_ms=300)
    await conn.call_function("end_call", {})
    await conn.wait_for("response.create")
    await conn.say("Goodbye!", audio_ms=200)


class Command(BaseCommand):
    help = "Run a scripted call end to end against the fake realtime server and fake Twilio."

    def handle(self, *args, **options) -> None:
        """Run the call and print its redacted transcript and audit events."""
        try:
            from tests.fakes.stack import VoiceStack
        except ImportError as exc:
            raise CommandError(
                "simulate_call needs the fakes in tests/fakes: run it from the source checkout"
            ) from exc
        report, call_sid = asyncio.run(self._run(VoiceStack))
        from phi.redaction.engine import redact_text

        self.stdout.write(self.style.MIGRATE_HEADING(f"Call {call_sid}: {report['outcome']}"))
        self.stdout.write(f"verified: {report['verified']}  transferred: {report['transferred']}")
        self.stdout.write(self.style.MIGRATE_HEADING("Transcript (redacted)"))
        for turn in report["turns"]:
            self.stdout.write(f"  {turn['role']:>6}: {redact_text(turn['text'])}")
        self.stdout.write(self.style.MIGRATE_HEADING("Audit events"))
        for event in report["audit"]:
            detail = json.dumps(event["detail"], sort_keys=True)
            self.stdout.write(f"  {event['action']} {event['resource_type']} {detail}")

    async def _run(self, stack_class) -> tuple[dict, str]:
        async with stack_class() as stack:
            stack.realtime.push_script(_script)
            self.stdout.write("Calling the practice through the loopback stack ...")
            call = await stack.call()
            call.stream_audio()
            await call.wait_closed(timeout=30)
            await call.close()
            for _ in range(40):
                report = await stack.report(call.call_sid)
                if report["ended"]:
                    break
                await asyncio.sleep(0.25)
            return report, call.call_sid
