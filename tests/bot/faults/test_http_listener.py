"""Finding 7: half-sent requests must not exhaust the listener's file descriptors (a real process)."""

from __future__ import annotations

import json
import resource
import socket
import time
import urllib.request

from tests.bot.faults.conftest import polls, start, stop, wait_for, write_config

FD_LIMIT = 384  # the child's RLIMIT_NOFILE: small, so exhaustion shows within the test
HALF_SENT = 1100  # as in the report that found it


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthz(port: int, timeout: float = 1.0) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=timeout) as r:
            json.loads(r.read())
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def _limit_fds() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (FD_LIMIT, FD_LIMIT))


def _closed_by_peer(sock: socket.socket) -> bool:
    sock.settimeout(0.01)
    try:
        sock.recv(4096)  # EOF, or an error answer before closing: either way the server let go
        return True
    except TimeoutError:
        return False
    except OSError:
        return True


def _raw(port: int, data: bytes) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(data)
    return s


def test_half_sent_requests_do_not_take_healthz_or_the_bot_down(forum, tmp_path):
    port = _free_port()
    extra = f"http:\n  listen: 127.0.0.1:{port}\n  read_timeout: 1\n  max_connections: 64\n  max_body_bytes: 65536\n"
    cfg = write_config(tmp_path, forum.url, extra=extra)
    proc = start(
        cfg,
        forum.api_key,
        env_over={"FARMHAND_DISCOURSE_WEBHOOK_SECRET": "webhook-secret-1"},
        preexec=_limit_fds,
    )
    socks: list[socket.socket] = []
    try:
        assert wait_for(lambda: _healthz(port) == 200, 20), "the bot did not become healthy"
        for _ in range(HALF_SENT):
            try:
                socks.append(_raw(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "))
            except OSError:
                break  # the listener refusing is fine; what matters is what it still serves
        # While the flood is open, health still answers (the oldest connections make room).
        assert wait_for(lambda: _healthz(port) == 200, 5), "healthz is down under half-sent requests"
        # Every half-sent request is dropped after the header timeout.
        assert wait_for(lambda: all(_closed_by_peer(s) for s in socks), 8), "half-sent requests stay open"
        seen = polls(forum)
        assert wait_for(lambda: polls(forum) >= seen + 3, 10), "the bot stopped polling"
        # A body that trickles is cut off with 408; a body over the limit is refused unread.
        slow = _raw(port, b"POST /webhooks/discourse HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
        slow.settimeout(5)
        started = time.monotonic()
        assert slow.recv(100).startswith(b"HTTP/1.1 408")
        assert time.monotonic() - started < 4
        big = _raw(port, b"POST /webhooks/discourse HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n")
        big.settimeout(5)
        assert big.recv(100).startswith(b"HTTP/1.1 413")
        for s in (slow, big):
            s.close()
        assert _healthz(port) == 200
        assert proc.poll() is None
    finally:
        for s in socks:
            s.close()
        code, err = stop(proc)
    assert code == 0, err
    assert "Too many open files" not in err and "Traceback" not in err
    assert err.count("closing the oldest") <= 1  # throttled: one line a minute
