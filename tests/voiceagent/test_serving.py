"""voiceagent.serving: the serving-stack tunings change cost, never behaviour.

The reactor tunings run in a fresh interpreter (Twisted's reactor is process-global and the
test process must not get one installed); the end-to-end call tests run them under Daphne.
"""

import subprocess
import sys
import textwrap
from pathlib import Path

from voiceagent.serving import _PooledSecrets

ROOT = Path(__file__).resolve().parents[2]


def _run(script: str) -> str:
    out = subprocess.run(  # noqa: S603 -- our interpreter and a fixed script
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout.strip().splitlines()[-1]


def test_pooled_mask_keys_are_fresh_bytes_of_the_asked_length():
    secrets = _PooledSecrets()
    keys = [secrets.token_bytes(4) for _ in range(3000)]  # crosses several 4 KiB refills
    assert all(len(key) == 4 for key in keys)
    assert len(set(keys)) > 2990  # random 32-bit keys: collisions are rare, repeats a bug
    assert len(secrets.token_bytes(10_000)) == 10_000


def test_websockets_masks_with_the_pooled_source():
    out = _run(
        """
        from voiceagent.serving import pooled_websocket_mask_keys, _PooledSecrets
        from websockets import frames
        assert pooled_websocket_mask_keys()
        assert isinstance(frames.secrets, _PooledSecrets)
        frame = frames.Frame(frames.Opcode.TEXT, b"hello")
        wire = frame.serialize(mask=True)
        key, body = wire[2:6], wire[6:]
        print(bytes(b ^ key[i % 4] for i, b in enumerate(body)) == b"hello")
        """
    )
    assert out == "True"


def test_outside_daphne_the_loop_is_left_alone():
    assert _run(
        "from voiceagent.serving import use_uvloop_reactor; print(use_uvloop_reactor())"
    ) == ("False")


def test_daphne_reactor_moves_to_uvloop_and_still_serves_tcp_in_order():
    """Reactor on uvloop; immediate writes keep order, including a write the socket can't take
    at once (partial send, then Twisted's buffered path), and the peer sees a clean close."""
    out = _run(
        """
        import daphne.server  # installs Twisted's asyncio reactor, as the daphne CLI does
        import uvloop
        from twisted.internet import protocol, reactor
        from voiceagent.serving import tune_serving_stack

        applied = tune_serving_stack()
        assert all(applied.values()), applied
        assert isinstance(reactor._asyncioEventloop, uvloop.Loop)
        assert tune_serving_stack()["uvloop"]  # idempotent

        big = bytes(range(256)) * 32768  # 8 MiB: more than a loopback socket takes at once
        chunks = [b"first:", big, b":last"]
        expected = b"".join(chunks)
        received = bytearray()
        result = {}

        class Sender(protocol.Protocol):
            def connectionMade(self):
                for chunk in chunks:
                    self.transport.write(chunk)
                self.transport.loseConnection()

        class Receiver(protocol.Protocol):
            def dataReceived(self, data):
                received.extend(data)

            def connectionLost(self, reason):
                result["ok"] = bytes(received) == expected
                reactor.stop()

        server = protocol.ServerFactory.forProtocol(Sender)
        port = reactor.listenTCP(0, server, interface="127.0.0.1")
        protocol.ClientCreator(reactor, Receiver).connectTCP("127.0.0.1", port.getHost().port)
        reactor.callLater(30, reactor.stop)
        reactor.run(installSignalHandlers=False)
        print(result.get("ok"))
        """
    )
    assert out == "True"
