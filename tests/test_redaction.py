"""Secrets never reach a log line: query values under any spelling of a secret's name, API
tokens anywhere, in gevent's access and error logs and in Python logging."""

from __future__ import annotations

import logging
import socket
import time

import pytest
import requests

from app.redaction import RedactingFilter, RedactingStream, redact
from devtools.live_server import LiveServer

SECRET = "SECRETVALUE42"


@pytest.mark.parametrize(
    "line",
    [
        f'"GET /wall?token={SECRET} HTTP/1.1" 303',
        f'"GET /wall?%74oken={SECRET} HTTP/1.1" 303',  # percent-encoded name
        f'"GET /wall?%54%4F%4B%45%4E={SECRET} HTTP/1.1" 303',  # encoded and upper case
        f'"GET /wall?TOKEN={SECRET} HTTP/1.1" 303',
        f'"GET /wall?token+={SECRET} HTTP/1.1" 303',  # `+` is a space once decoded
        f'"GET /wall?a=1&b=2&to%6Ben={SECRET}&c=3 HTTP/1.1" 303',  # not first
        f'"GET /wall?a=1?token={SECRET} HTTP/1.1" 303',  # after a stray `?`
        f'"GET /api/v1/ws?subscribe=all&access_token={SECRET}" 101',
        f"Invalid HTTP method: 'GET /wall?token={SECRET} HTTP/1.1 x\\r\\n'",  # pywsgi, repr'd
        f"GET /login?password={SECRET}",
        f"Authorization: Bearer mdt_{SECRET}abcdefghijkl",  # a token outside any query
    ],
)
def test_redact_removes_the_secret(line):
    assert SECRET not in redact(line)
    assert "[redacted]" in redact(line)


def test_redact_leaves_other_text_alone():
    line = '127.0.0.1 - - "GET /api/v1/tickets?status=open&limit=50 HTTP/1.1" 200 512'
    assert redact(line) == line
    assert redact("token prefix mdt_abc123 revoked") == "token prefix mdt_abc123 revoked"
    # Only the value goes: the rest of the request line stays readable.
    assert redact("GET /wall?token=abc&kiosk=1 HTTP/1.1") == (
        "GET /wall?token=[redacted]&kiosk=1 HTTP/1.1"
    )


def test_stream_and_logging_filter_redact(tmp_path):
    path = tmp_path / "out.log"
    with path.open("w") as out:
        RedactingStream(out).write(f"GET /wall?token={SECRET}\n")
        handler = logging.StreamHandler(out)
        handler.addFilter(RedactingFilter())
        logger = logging.getLogger("tests.redaction")
        logger.addHandler(handler)
        logger.propagate = False
        try:
            logger.warning("asked for %s", f"/wall?%74oken={SECRET}")
            try:
                raise ValueError(f"bad url /wall?token={SECRET}")
            except ValueError:
                logger.exception("failed")
        finally:
            logger.removeHandler(handler)
    text = path.read_text()
    assert SECRET not in text
    assert "asked for /wall?%74oken=[redacted]" in text and "ValueError" in text


def raw_request(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_live_server_logs_never_show_the_secret(tmp_path):
    live = LiveServer(tmp_path).start()
    try:
        url = live.url
        requests.get(f"{url}/wall?%74oken={SECRET}", allow_redirects=False, timeout=5)
        requests.get(f"{url}/wall?kiosk=1&TOKEN+={SECRET}", allow_redirects=False, timeout=5)
        requests.get(f"{url}/api/v1/machines?token={SECRET}", timeout=5)
        # pywsgi refuses a request line of four words and writes it to its error log.
        answer = raw_request(live.port, f"GET /wall?token={SECRET} HTTP/1.1 x\r\n\r\n".encode())
        assert answer.startswith(b"HTTP/1.1 400")
        # A socket handshake whose checks fail (an unknown token) is logged as well.
        raw_request(
            live.port,
            (
                f"GET /api/v1/ws?%74oken={SECRET} HTTP/1.1\r\nHost: 127.0.0.1:{live.port}\r\n"
                "Connection: close\r\n\r\n"
            ).encode(),
        )
        time.sleep(0.5)  # let the server flush its log lines
    finally:
        live.stop()
    log = live.log_path.read_text()
    assert "Invalid HTTP method" in log, log[-2000:]
    assert "%74oken=[redacted]" in log
    assert SECRET not in log, [line for line in log.splitlines() if SECRET in line]
