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

Measured (``python -m bench voice``: one Daphne per phase against the bare relay
``bench/voice_relay.py`` in the same run, loopback fakes, 2-core machine, quiet, 8 s windows)
---------------------------------------------------------------------------------------------
====================================  ===========  ===========  ==========================
figure (ours / relay)                 1 call       50 calls     200 calls
====================================  ===========  ===========  ==========================
caller -> model p50 / p99 ms          0.94/1.45    0.48/3.9     126/347
  relay                               0.87/1.30    0.53/14.2    39/141
model -> caller p50 / p99 ms          0.67/1.51    0.66/6.1     344/777
  relay                               0.62/1.39    0.85/25.3    81/254
CPU per call, ours / relay            1.20x        1.10x        (both at one full core)
RSS per call, ours / relay            1.24x        1.49x        1.49x
truncate error p99 ms                 1.6          4.5          591
frames lost / reordered / misrouted   0            0            0
realtime sockets open 1 s after       0            0            0
====================================  ===========  ===========  ==========================

At 50 calls every target of issue 4 is met, RSS only just (runs on a busy machine gave 1.6-1.9x:
queues that build up while the process waits for a core stay in its heap). At 200 calls the bare
relay itself needs all of one core (Daphne 99% CPU, 0.50% per call; its p50 is 39/81 ms,
queueing, not relaying), so neither can carry 200 calls in real time in one Daphne process here;
ours runs at the same CPU per call (98% of a core) with a deeper queue. The fakes use 0.6 of the
other core. What is left above the relay per frame (about 10% at 50 calls) is the bridge's own
Python per frame: frame validation, dispatch through Channels, playout bookkeeping; marks every
200 ms instead of 100 ms made no measurable difference. At the 50-call cost per call (relay
1.36%, ours 1.49% of a core) 200 calls need 2.7 (relay) or 3.0 (ours) cores of Daphne: more than
this machine has beside the fakes; elsewhere, several Daphne processes per host. A full pass of
the garbage collector over the startup heap used to stall all calls for 300-400 ms (config.asgi
now freezes that heap).

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
