"""Per-frame cost of the serving stack (Daphne, Twisted, autobahn) for long-lived media streams.

A call is about 120 WebSocket messages a second through Daphne and 100 to the realtime model,
so the stack's fixed cost per message, not the bridge's logic, decides how many calls one
process carries. `tune_serving_stack()` removes five such costs without changing behaviour:

- Twisted's asyncio reactor runs on uvloop instead of the stdlib selector loop (libuv's C loop
  and transports: the realtime sockets are asyncio transports, the Twilio sockets are
  callbacks on the same loop). Done only while Daphne's reactor is installed and not started,
  when its one registration (the reactor's waker) can still be moved; anything else leaves
  the stock loop in place.
- autobahn formats the arguments of its per-frame debug log lines (coloured type names and
  values, through click) before txaio drops the line; with debug logging off those
  formatters are replaced by the identity, so nothing is formatted for nothing.
- autobahn fires a "message" event per received message to gather its listeners' results into
  a fresh DeferredList; when the event has no listeners (Daphne registers none) the already
  resolved empty result is returned straight away, as autobahn does when it has no registry.
- Twisted buffers every TCP write and sends it on the next writable event, which costs an
  epoll registration, a wake-up and a deregistration per outbound message. A plain-TCP write
  with nothing queued before it is now sent at once, as asyncio's transports do; whatever the
  socket does not take (or an error) goes through Twisted's own buffered path unchanged, so
  order, back-pressure, producers and disconnect handling stay Twisted's.
- websockets (the realtime client) draws each frame's mask key with `secrets.token_bytes(4)`,
  one getrandom system call per frame; the keys now come from the same OS source read 4 KiB
  at a time (still unpredictable, one system call per 1024 frames).

It is applied by config.asgi and by the bare relay baseline (bench/voice_relay.py) alike, so
the benchmark's ratios compare our bridge with a relay on the same tuned stack. Importing this
module imports nothing from Django.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys

logger = logging.getLogger(__name__)


def tune_serving_stack() -> dict[str, bool]:
    """Apply both tunings where they apply; which ones took effect (for logs and tests)."""
    return {
        "uvloop": use_uvloop_reactor(),
        "quiet_autobahn": quiet_autobahn_debug_args(),
        "lean_autobahn_fire": lean_autobahn_fire(),
        "immediate_tcp_writes": immediate_tcp_writes(),
        "pooled_mask_keys": pooled_websocket_mask_keys(),
    }


def use_uvloop_reactor() -> bool:
    """Move Daphne's not-yet-running Twisted reactor onto a fresh uvloop loop.

    True if the reactor now runs (or already ran) on uvloop. False, changing nothing, when
    uvloop is missing, no Daphne reactor is installed (tests, manage.py), or the reactor or its
    loop has started or holds registrations other than its waker.
    """
    try:
        import uvloop
    except ImportError:
        return False
    if "daphne.server" not in sys.modules:
        return False
    from twisted.internet import asyncioreactor
    from twisted.python.log import callWithLogger

    reactor = sys.modules.get("twisted.internet.reactor")
    if not isinstance(reactor, asyncioreactor.AsyncioSelectorReactor):
        return False
    old = reactor._asyncioEventloop
    if isinstance(old, uvloop.Loop):
        return True
    if reactor.running or old.is_running() or reactor._writers or old._scheduled or old._ready:
        return False
    waker = getattr(reactor, "waker", None)
    if set(reactor._readers) - {waker}:
        return False
    new = uvloop.new_event_loop()
    executor = getattr(old, "_default_executor", None)
    if executor is not None:  # Daphne's ASGI_THREADS pool
        new.set_default_executor(executor)
    for reader, fd in list(reactor._readers.items()):
        old.remove_reader(fd)
        new.add_reader(fd, callWithLogger, reader, reactor._readOrWrite, reader, True)
    reactor._asyncioEventloop = new
    asyncio.set_event_loop(new)
    old.close()
    return True


def quiet_autobahn_debug_args() -> bool:
    """Make autobahn's per-frame log-argument formatters free while debug logging is off."""
    try:
        import txaio
        from autobahn.twisted import websocket as twisted_websocket
        from autobahn.websocket import protocol
    except ImportError:
        return False
    if txaio.get_global_log_level() in ("debug", "trace"):
        return False

    def plain(value: object, *args: object, **kwargs: object) -> object:
        return value

    for module in (protocol, twisted_websocket):
        for name in ("hl", "hltype", "hlval"):
            if hasattr(module, name):
                setattr(module, name, plain)
    return True


def lean_autobahn_fire() -> bool:
    """Skip the DeferredList autobahn builds per event when nothing listens to the event."""
    try:
        import txaio
        from autobahn.util import ObservableMixin
    except ImportError:
        return False
    original = ObservableMixin.fire
    if getattr(original, "_clarion_lean", False):
        return True

    def fire(self: ObservableMixin, event: str, *args: object, **kwargs: object) -> object:
        listeners = self._listeners
        if listeners is not None and self._parent is None and not listeners.get(event):
            self._check_event(event)
            return txaio.create_future(result=[])
        return original(self, event, *args, **kwargs)

    fire._clarion_lean = True  # type: ignore[attr-defined]
    ObservableMixin.fire = fire  # type: ignore[method-assign]
    return True


def immediate_tcp_writes() -> bool:
    """Send a plain-TCP write at once when Twisted has nothing queued for the socket."""
    try:
        from twisted.internet import tcp
    except ImportError:
        return False
    original = tcp.Connection.write
    if getattr(original, "_clarion_immediate", False):
        return True

    def write(self: tcp.Connection, data: bytes) -> None:
        if (
            data.__class__ is bytes
            and not self.TLS
            and self.connected
            and not self.disconnecting
            and not self._writeDisconnected
            # Daphne's HTTP channel stays registered as a streaming producer; a paused one
            # (buffer over Twisted's limit) means data is queued, so Twisted's path runs.
            and (self.producer is None or (self.streamingProducer and not self.producerPaused))
            and not self._tempDataBuffer
            and self.offset == len(self.dataBuffer)
        ):
            try:
                sent = self.socket.send(data)
            except OSError:  # EAGAIN, EINTR or a lost peer: Twisted's path handles each
                sent = 0
            if sent == len(data):
                return
            data = data[sent:]
        original(self, data)

    write._clarion_immediate = True  # type: ignore[attr-defined]
    tcp.Connection.write = write  # type: ignore[method-assign]
    return True


class _PooledSecrets:
    """`secrets.token_bytes` over os.urandom read in 4 KiB blocks (event-loop thread use)."""

    def __init__(self) -> None:
        self._pool = b""
        self._pos = 0

    def token_bytes(self, nbytes: int) -> bytes:
        pos = self._pos
        if pos + nbytes > len(self._pool):
            self._pool, pos = os.urandom(max(4096, nbytes)), 0
        self._pos = pos + nbytes
        return self._pool[pos : pos + nbytes]


def pooled_websocket_mask_keys() -> bool:
    """Give websockets' frame masking a pooled `secrets` (see the module docstring)."""
    try:
        from websockets import frames
    except ImportError:
        return False
    if not isinstance(frames.secrets, _PooledSecrets):
        frames.secrets = _PooledSecrets()  # the module uses only secrets.token_bytes
    return True
