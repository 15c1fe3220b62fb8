"""Twilio voice webhooks: the incoming-call answer and the call-status callback.

Invariants:
- Nothing is read from a request before its X-Twilio-Signature verifies against
  PUBLIC_BASE_URL + path (never the Host header); a forged or unsigned request gets 403 and a
  log line with the path and whether a signature was present, nothing from the body.
- A signed incoming call always gets TwiML, never an error page: the stream when the
  receptionist may answer; otherwise a forward to the practice's main line (or a message and
  hang-up for a number that belongs to no practice). Unexpected errors become a forward too.
- Logs carry the CallSid, practice id and event names; never the caller's number.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from clinic.models import Practice
from clinic.selectors import practice_for_number
from voiceagent import services
from voiceagent.models import Call, CallOutcome
from voiceagent.selectors import practice_voice_config, voice_agent_availability
from voiceagent.twilio import twiml
from voiceagent.twilio.signature import public_url, request_signature_valid
from voiceagent.twilio.tokens import stream_token_issue

logger = logging.getLogger(__name__)

TWIML_CONTENT_TYPE = "text/xml; charset=utf-8"
# Twilio's final CallStatus values -> our outcome for a call whose stream never connected.
FINAL_STATUSES = {
    "completed": CallOutcome.COMPLETED,
    "busy": CallOutcome.ABANDONED,
    "no-answer": CallOutcome.ABANDONED,
    "canceled": CallOutcome.ABANDONED,
    "failed": CallOutcome.FAILED,
}


def _twiml(document: str) -> HttpResponse:
    return HttpResponse(document, content_type=TWIML_CONTENT_TYPE)


def _forbidden(request: HttpRequest) -> HttpResponse:
    logger.warning(
        "voice.webhook.forbidden path=%s signature_present=%s",
        request.path,
        "X-Twilio-Signature" in request.headers,
    )
    return HttpResponse("Forbidden", status=HTTPStatus.FORBIDDEN, content_type="text/plain")


def _stream_url() -> str:
    # The WebSocket route is the one source of the path; imported here so a plain WSGI
    # process answering webhooks does not load the consumer and realtime stack at start-up.
    from voiceagent.routing import STREAM_PATH

    return public_url("/" + STREAM_PATH.lstrip("/"), websocket=True)


@csrf_exempt
@require_POST
def twilio_incoming(request: HttpRequest) -> HttpResponse:
    """Answer an incoming call: stream to the receptionist, or forward to the practice."""
    if not request_signature_valid(request):
        return _forbidden(request)
    call_sid = request.POST.get("CallSid", "")[:64]
    practice = None
    try:
        practice = practice_for_number(e164=request.POST.get("To", ""))
        if practice is None:
            logger.info("voice.incoming.unknown_number call_sid=%s", call_sid)
            return _twiml(twiml.message_and_hangup(twiml.UNKNOWN_NUMBER_MESSAGE))
        return _twiml(_answer(request, call_sid=call_sid, practice=practice))
    except Exception as exc:
        # Never an error page for a caller: forward to the practice if we know it.
        logger.exception("voice.incoming.error call_sid=%s error=%s", call_sid, type(exc).__name__)
        return _twiml(twiml.forward_to(practice.main_phone if practice else ""))


def _answer(request: HttpRequest, *, call_sid: str, practice: Practice) -> str:
    if not call_sid:
        raise ValueError("incoming call without CallSid")
    call = services.call_start(
        call_sid=call_sid,
        practice=practice,
        caller_number=request.POST.get("From", ""),
        dialled_number=request.POST.get("To", ""),
    )
    try:
        return _stream_or_forward(call, practice=practice)
    except Exception:
        # The caller is forwarded by the view; the record says so rather than staying open.
        try:
            services.call_finish(call_id=call.pk, outcome=CallOutcome.FORWARDED_NO_AGENT)
        except Exception:
            logger.exception("voice.incoming.finish_failed call_sid=%s", call_sid)
        raise


def _stream_or_forward(call: Call, *, practice: Practice) -> str:
    config = practice_voice_config(practice_id=practice.pk)
    availability = voice_agent_availability(config)
    stream_url = _stream_url()
    if not availability.available or not stream_url:
        reason = availability.reason or "no_public_url"
        logger.info(
            "voice.incoming.forwarded call_sid=%s practice_id=%s reason=%s",
            call.call_sid,
            practice.pk,
            reason,
        )
        services.call_finish(call_id=call.pk, outcome=CallOutcome.FORWARDED_NO_AGENT)
        return twiml.forward_to(config.main_phone)
    token = stream_token_issue(call_sid=call.call_sid, practice_id=practice.pk, call_id=call.pk)
    logger.info("voice.incoming.streaming call_sid=%s practice_id=%s", call.call_sid, practice.pk)
    return twiml.connect_stream(stream_url, token)


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    """Call status callback: close calls that ended before their media stream connected."""
    if not request_signature_valid(request):
        return _forbidden(request)
    call_sid = request.POST.get("CallSid", "")[:64]
    outcome = FINAL_STATUSES.get(request.POST.get("CallStatus", ""))
    call = Call.objects.filter(call_sid=call_sid).only("pk", "connected_at").first()
    # A connected call is finished by the bridge (it knows transfer/message/completion); this
    # callback only closes calls whose stream never connected, e.g. the caller hung up at once.
    if outcome is not None and call is not None and call.connected_at is None:
        if outcome == CallOutcome.COMPLETED:
            outcome = CallOutcome.ABANDONED
        services.call_finish(call_id=call.pk, outcome=outcome)
        logger.info("voice.status.closed call_sid=%s outcome=%s", call_sid, outcome)
    return _twiml(twiml.empty())
