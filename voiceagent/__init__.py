"""The phone receptionist: Twilio Media Streams bridged to a realtime speech model.

Configuration (environment; every value defaults to "off", so without Twilio or OpenAI
credentials the platform runs as before and calls are forwarded to the practice's line)
--------------------------------------------------------------------------------------------
* ``TWILIO_ACCOUNT_SID``, ``TWILIO_AUTH_TOKEN`` -- the account; the token checks webhook and
  media-stream signatures and authenticates REST transfers.
* ``PUBLIC_BASE_URL`` -- the https origin Twilio sees (e.g. ``https://voice.example.org``).
  Signatures are checked against it plus the request path, never against the Host header.
* ``OPENAI_API_KEY``, ``OPENAI_BASE_URL`` -- read by the openai SDK itself (pointing
  ``OPENAI_BASE_URL`` at a local server redirects the whole realtime provider; tests and
  benchmarks do this). ``OPENAI_REALTIME_MODEL`` (default ``gpt-realtime``).
* ``AZURE_OPENAI_ENDPOINT``, ``AZURE_OPENAI_API_KEY``, ``AZURE_OPENAI_API_VERSION``,
  ``AZURE_OPENAI_REALTIME_DEPLOYMENT`` -- for practices that choose Azure OpenAI.
* ``PHI_BAA_OPENAI`` / ``PHI_BAA_AZURE_OPENAI`` and ``PHI_EGRESS_STRICT`` (phi.egress) -- a
  realtime session carries raw PHI, so in strict mode (the default) it is opened only to a
  provider with a BAA on file; otherwise the call is forwarded to staff.
* ``VOICE_MAX_CALL_SECONDS`` (900), ``VOICE_IDLE_SECONDS`` (30),
  ``VOICE_STREAM_TOKEN_TTL_SECONDS`` (60).
* ``VOICE_RECORDING_STORAGE`` ("" = default storage; "s3" = S3 with Object Lock, the
  production default), ``VOICE_RECORDING_BUCKET``, ``VOICE_RECORDING_RETENTION_DAYS`` (6 years).
* ``TWILIO_API_BASE_URL`` -- tests and local fakes only: Twilio REST goes there instead.

In the Twilio console, set the number's voice webhook to ``POST {PUBLIC_BASE_URL}/voice/twilio/
incoming/`` and (optionally) its status callback to ``POST .../voice/twilio/status/``; map the
number to its practice in the admin (Practice phone numbers) and switch the receptionist on
per practice (Practice voice settings: provider, voice, turn detection, extra instructions,
recording). Staff roles and what they see are in ``voiceagent.roles``.

How a call flows
----------------
1. ``twilio/webhooks.py`` checks ``X-Twilio-Signature`` (403 and a PHI-free log line if not
   valid), maps the dialled number to a practice, records the ``Call`` (caller number
   encrypted) and answers TwiML: ``<Connect><Stream>`` with a single-use token bound to the
   CallSid (``twilio/tokens.py``, only its hash stored, 60 s), or a forward to the practice's
   main line when the receptionist is off, its provider unconfigured or without a BAA in
   strict mode, or anything failed. An unknown number hears a message. Never an error page.
2. The media-stream consumer (``consumers.py``) checks the upgrade's signature and redeems
   the token from the ``start`` message, then the bridge (``bridge.py``) runs the realtime
   session with ``tools.TOOL_DEFINITIONS``.
3. Tools (``tools.py``) run on server-side ``CallState``: ``verify_identity(name,
   date_of_birth)`` through the blind index (3 attempts, then a transfer is offered); only
   then the appointment tools, on the verified patient, via call-local references ("A1",
   "S2"); ``practice_info``, ``take_message``, ``transfer_to_staff``, ``end_call`` always.
   Each call is audited with ``Actor.voice_agent(call_sid)``.
4. Transfer: ``services.call_transfer`` redirects the live call with Twilio REST to a
   ``<Dial>`` of the main line (outside any transaction) and returns whether it worked; if
   not, the agent takes a message (``CallbackRequest``, worked in the admin).
5. ``services.call_finish`` closes the record; transcript turns are stored encrypted;
   recordings (``recording.py``) are stereo mu-law WAVs sealed with the practice's data key.
"""
