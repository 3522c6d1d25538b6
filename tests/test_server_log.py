"""What the server writes to its log: a framed first-run password, requests worth a line."""

from __future__ import annotations

import pytest

from app.server import SLOW_REQUEST_S, first_run_banner, worth_logging


def test_first_run_password_stands_in_a_frame():
    banner = first_run_banner("s3cret-Pass").splitlines()
    assert banner[0] == banner[-1] and set(banner[0]) == {"+", "-"}
    assert all(line.startswith("| ") and line.endswith(" |") for line in banner[1:-1])
    assert len({len(line) for line in banner}) == 1
    assert any("password: s3cret-Pass" in line for line in banner)


@pytest.mark.parametrize(
    ("status", "path", "seconds", "websocket", "logged"),
    [
        ("200 OK", "/_dash-update-component", 0.01, False, False),
        ("200 OK", "/api/v1/health", 0.002, False, False),
        ("101 Switching Protocols", "/api/v1/ws", 3600.0, True, False),
        ("500 Internal Server Error", "/api/v1/tickets", 0.01, False, True),
        ("404 NOT FOUND", "/api/v1/nothing", 0.01, False, True),
        ("303 SEE OTHER", "/login", 0.3, False, True),
        ("303 SEE OTHER", "/logout", 0.01, False, True),
        ("200 OK", "/api/v1/tickets", SLOW_REQUEST_S + 0.5, False, True),
    ],
)
def test_only_errors_slow_requests_and_sign_ins_are_logged(
    status, path, seconds, websocket, logged
):
    assert worth_logging(status, path, seconds, websocket) is logged
