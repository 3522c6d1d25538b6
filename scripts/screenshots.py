"""Screenshots of every page of a live demo plant (1440x900) into docs/screenshots/: the pages
(the admin's settings and system pages too), a machine that is down with its ticket, the ticket
drawer, and a page that lost its server.

The plant runs in PLANT_TZ (not UTC) and the browser in another zone again, so the shots show
every time on the plant's clock, as a plant away from the server's zone sees it.

python -m scripts.screenshots                 # into docs/screenshots/
python -m scripts.screenshots --out DIR       # anywhere else
python -m scripts.screenshots --zone Europe/Berlin
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from devtools.browser import ARGS, CHROMIUM
from devtools.live_server import ROOT, LiveServer

PAGES = {
    "dashboard": "/",
    "machines": "/machines",
    "machine-detail": "/machines?id=3",
    "maintenance": "/maintenance",
    "production": "/production",
}
# Pages only an admin opens, shot signed in as one.
ADMIN_PAGES = {"settings": "/settings", "system": "/system"}
# Sockets held open beside the browser's while the admin pages are shot, so the System page
# counts several roles.
EXTRA_SOCKETS = ("viewer", "viewer", "operator", "display")
# Shots of a state rather than a page: the ticket drawer open, the page without its server.
EXTRA = ("maintenance-drawer", "disconnected")
DOWN_MACHINE = 3
PLANT_TZ = "America/Chicago"
BROWSER_TZ = "Europe/Lisbon"  # a zone the plant is not in: nothing may show the browser's clock


def settle(page: Any) -> None:
    """Wait for the socket, the callbacks and the graphs of the page shown."""
    page.wait_for_selector('#connection-status[data-state="connected"]', state="attached")
    page.wait_for_load_state("networkidle")
    page.wait_for_function(
        "![...document.querySelectorAll('.js-plotly-plot')]"
        ".some(g => !g.querySelector('.main-svg'))",
        timeout=20000,
    )
    page.wait_for_timeout(2500)


def break_a_machine(server: LiveServer) -> None:
    """A machine down with its ticket, so the cards show why and since when."""
    server.post(f"/machines/{DOWN_MACHINE}/status", {"status": "down", "reason": "hydraulic leak"})
    server.post(
        "/tickets",
        {
            "machine_id": DOWN_MACHINE,
            "title": "Hydraulic leak at the main cylinder",
            "description": "Oil on the floor under the cylinder; pressure drops within minutes.",
            "priority": "high",
            "assignee": "R. Patel",
        },
    )


def client_mistake(server: LiveServer) -> None:
    """A request a misbehaving client makes, so the System page lists the warning it leaves."""
    import requests

    requests.post(
        f"{server.url}/api/v1/tickets",
        data="{not json",
        headers={**server.headers("operator"), "Content-Type": "application/json"},
        timeout=10,
    )


def settle_admin_page(page: Any, name: str) -> None:
    """Settle an admin page; the System page also waits for its first delivery figures."""
    settle(page)
    if name == "system":
        page.wait_for_selector("#system-connections", timeout=60000)
        try:  # the delivery figures come with the first sampled delivery: wait a while for them
            page.wait_for_selector("#system-p50", timeout=20000)
        except Exception as exc:  # playwright's TimeoutError
            if type(exc).__name__ != "TimeoutError":
                raise
            print("system: no delivery figures yet: the empty state is shown", file=sys.stderr)
        page.wait_for_timeout(5500)  # one more 5 s refresh: its own socket is counted


def main(argv: list[str] | None = None) -> int:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(prog="python -m scripts.screenshots", description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--zone", default=PLANT_TZ, help=f"the plant's zone (default {PLANT_TZ})")
    args = parser.parse_args(argv)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)

    def shoot(page: Any, name: str) -> None:
        page.screenshot(path=str(out / f"{name}.png"))
        print(f"wrote {out / name}.png", file=sys.stderr)

    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(Path(tmp), demo=True, MILLDASH_PLANT_TZ=args.zone).start(timeout=120)
        try:
            break_a_machine(server)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                screen = {"viewport": {"width": 1440, "height": 900}, "timezone_id": BROWSER_TZ}
                context = browser.new_context(**screen)
                page = context.new_page()
                server.sign_in(page, "operator", "/")
                for name, path in PAGES.items():
                    page.goto(server.url + path)
                    settle(page)
                    shoot(page, name)
                page.goto(server.url + "/maintenance")
                settle(page)
                page.locator("#tickets-grid .ag-row").first.click()
                page.wait_for_selector("#ticket-drawer", state="visible")
                page.wait_for_timeout(1500)
                shoot(page, EXTRA[0])
                admin = browser.new_context(**screen).new_page()
                server.sign_in(admin, "admin", "/")
                sockets = [server.connect(role=role) for role in EXTRA_SOCKETS]
                client_mistake(server)
                for name, path in ADMIN_PAGES.items():
                    admin.goto(server.url + path)
                    settle_admin_page(admin, name)
                    shoot(admin, name)
                for socket in sockets:
                    socket.close()
                page.goto(server.url + "/")
                settle(page)
                server.stop()  # the page loses its server: stale, dimmed, reconnecting
                page.wait_for_selector('#page[data-stale="true"]', timeout=60000)
                page.wait_for_timeout(6000)
                shoot(page, EXTRA[1])
                browser.close()
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
