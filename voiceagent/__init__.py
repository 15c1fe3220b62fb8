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
``bench/voice_relay.py`` in the same run, loopback fakes, 2-core machine, 8 s windows; medians
of 3 runs at 1/50 calls and 2 at 100-175, ranges in brackets; 3 Dec 2026, other sessions' tests
and benchmarks shared the machine, phases they disturbed are named below)
---------------------------------------------------------------------------------------------
=======================================  ===============  ===============  ===============
figure (ours against the relay)          50 calls         100 calls        150 calls
=======================================  ===============  ===============  ===============
added p50 ms, caller->model / back       +0.06 / +0.02    -0.07 / -0.10    +0.55 / +0.66
ours p99 ms, caller->model / back        1.5 / 1.5        2.9 / 2.8        8.3 / 7.5
CPU per call, ours / relay               1.18x [1.09-1.25] 1.35x [1.31-1.40] 1.21x [1.20-1.22]
  relay, % of a core per call            0.66             0.49             0.50
RSS per call, ours / relay               1.40x [1.39-1.42] 1.35x            1.21x
truncate error p99 ms                    3.5              4.4              4.0
frames lost / reordered / misrouted      0                0                0
realtime sockets open 1 s after          0                0                0
=======================================  ===============  ===============  ===============

Every target of issue 4 holds at 50 calls, and at 1 call (added p50 +0.01 / -0.03 ms, CPU 1.08x)
except RSS, which for one call is a handful of pages: 60 KB against 28-36 KB, 1.9x. One Daphne
process carries about 125-150 calls within them here: at 150 the added p50 is just over 0.5 ms
(ours at 91% of a core), at 175 ours saturates the core (added p50 +2.4 ms, truncate p99 21 ms)
while the relay runs at 86%. 200 calls do not fit: in two quiet runs the relay itself used
89-94% of a core (p50 0.7 ms, p99 3-52 ms) and ours saturated it (99%; p50 22-29 ms, truncate
p99 59-99 ms, no frame lost, RSS 1.23-1.35x, CPU per call 1.07-1.12x with ours capped); in the
three full runs other processes took 0.8-0.9 of a core during our 200-call phase and it queued
further (p50 0.19-0.6 s). To serve 200 calls per process on this hardware the remaining cost per
frame must fall about 25% more, or the calls go to two Daphne processes (each well inside the
targets at 100 calls). The load side (fake model and driver) uses about 0.45 of the other core
at 200 calls.

The serving stack itself was the main cost: ``voiceagent.serving`` (applied by config.asgi and
by the relay alike) cut the relay's CPU per frame by a quarter to a third (74 to 52 us at 100
calls; Twisted's reactor on uvloop, immediate TCP writes instead of an epoll round trip per
message, autobahn's per-frame debug arguments and event DeferredLists skipped, websocket mask
keys from a pooled urandom). What is left above the relay (about 20% per frame) is the bridge's
own work: frame validation, marks (every 200 ms; at 100 ms they were a fifth of a call's Twilio
messages), playout bookkeeping and the dispatch through Channels. A full pass of the garbage
collector over the startup heap used to stall all calls for 300-400 ms (config.asgi now freezes
that heap).

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
