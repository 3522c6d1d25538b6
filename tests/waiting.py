"""Waiting for a condition instead of sleeping a fixed time.

A test that sleeps a fixed time and then looks relies on the duration being long enough on a
loaded machine; a test that polls a condition up to a deadline relies only on the condition.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """The condition did not hold before the deadline (a test failure, not an error)."""


def wait_until(
    predicate: Callable[[], T],
    timeout: float = 5.0,
    interval: float = 0.05,
    message: str | Callable[[], str] = "",
) -> T:
    """Call `predicate` every `interval` seconds until it returns something truthy, and return
    that; fail with WaitTimeout (an AssertionError) once `timeout` seconds have passed.

    The predicate runs at least once, and once more at the deadline, so a condition that holds
    immediately costs no wait. `message` (or a callable producing it, for the state at the
    deadline) says what was awaited.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            text = message() if callable(message) else message
            raise WaitTimeout(f"not within {timeout:g} s: {text or predicate!r}")
        time.sleep(min(interval, remaining))


# A Dash page is settled when the renderer has hydrated the layout and has no callback
# requested, queued or running (`stored` and `completed` are history, not work).
DASH_IDLE = """() => {
    const stores = window.dash_stores || [];
    return stores.length > 0 && stores.every(store => {
        const state = store.getState();
        if (state.appLifecycle !== 'HYDRATED' || state.isLoading) return false;
        return Object.entries(state.callbacks || {}).every(([key, pending]) =>
            key === 'stored' || key === 'completed' || !Array.isArray(pending)
            || pending.length === 0);
    });
}"""


def wait_for_dash_idle(page: Any, timeout: float = 10.0) -> None:
    """Wait until the page's Dash callbacks have all run (a Playwright page)."""
    page.wait_for_function(DASH_IDLE, timeout=timeout * 1000)


def open_signed_in(server: Any, page: Any, path: str, role: str = "viewer") -> Any:
    """Sign `page` in as `role` at `path` of a LiveServer and wait until its socket is up and
    Dash has settled; returns the page."""
    server.sign_in(page, role, path)
    page.wait_for_selector('#connection-status[data-state="connected"]', timeout=15000)
    wait_for_dash_idle(page, 20)
    return page
