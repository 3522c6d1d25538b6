"""Headless Chromium (Debian's) driven by Playwright for browser tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = os.environ.get("MILLDASH_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


def require_chromium() -> None:
    if shutil.which(CHROMIUM) or os.path.exists(CHROMIUM):
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but no Chromium at {CHROMIUM}")
    pytest.skip(f"no Chromium at {CHROMIUM}: browser tests need Debian's chromium package")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


class PageWatch:
    """A page in its own browser context that records every console message (`console`) and
    the errors among them (`errors`; failed socket attempts are expected only when the test
    stops the server). Closes its context on `close()` or at the end of a `with` block."""

    def __init__(self, browser: Any, width: int = 1440, height: int = 900, **context: Any) -> None:
        # `context`: more options of the browser context, e.g. timezone_id="Asia/Tokyo".
        self.context = browser.new_context(
            viewport={"width": width, "height": height}, accept_downloads=True, **context
        )
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.errors: list[str] = []
        # The stacks of uncaught errors, kept apart so that `errors` stays comparable.
        self.stacks: list[str] = []
        self.page.on("console", self._on_console)
        self.page.on("pageerror", self._on_error)

    def _on_error(self, error: Any) -> None:
        self.errors.append(str(error))
        self.stacks.append(str(getattr(error, "stack", "") or ""))

    def _on_console(self, message: Any) -> None:
        self.console.append(message.text)
        if message.type == "error":
            self.errors.append(message.text)

    def close(self) -> None:
        self.context.close()

    def __enter__(self) -> PageWatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
