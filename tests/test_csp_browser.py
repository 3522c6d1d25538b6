"""The Content-Security-Policy allows no inline script but Dash's own (by hash), and the pages
still render in headless Chromium without a single CSP violation."""

from __future__ import annotations

import re

import pytest
import requests

from data.accounts.users import create_user
from devtools.browser import PageWatch, browser  # noqa: F401 - fixture
from devtools.live_server import serve_plant

pytestmark = pytest.mark.browser

# Records violations the console might not show (reported asynchronously by the browser).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e =>
  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serve_plant(tmp_path_factory.mktemp("csp"), 3)


@pytest.fixture
def watch(browser):  # noqa: F811
    with PageWatch(browser) as w:
        w.page.add_init_script(RECORD_VIOLATIONS)
        yield w


def csp_messages(watch: PageWatch) -> list[str]:
    found = [m for m in watch.console + watch.errors if "Content Security Policy" in m]
    return found + watch.page.evaluate("window.__cspViolations || []")


def script_src(server) -> str:
    policy = requests.get(f"{server.url}/login", timeout=5).headers["Content-Security-Policy"]
    return next(d for d in policy.split(";") if d.strip().startswith("script-src"))


def test_script_src_has_hashes_and_no_unsafe_inline(server):
    directive = script_src(server)
    assert "'unsafe-inline'" not in directive
    assert re.search(r"'sha256-[A-Za-z0-9+/]+=*'", directive), directive


def test_login_page_has_no_inline_script(server):
    html = requests.get(f"{server.url}/login", timeout=5).text
    assert not re.search(r"<script(?![^>]*\bsrc=)", html, re.IGNORECASE)
    assert not re.search(r"\son[a-z]+\s*=", html, re.IGNORECASE)  # no onclick= and the like


def test_dashboard_renders_without_csp_violations(server, watch):
    password = create_user(server.db, "csp-viewer", "viewer")
    page = watch.page
    page.goto(f"{server.url}/login")
    page.fill("#login-name", "csp-viewer")
    page.fill("#login-password", password)
    page.click("#login-submit")
    page.wait_for_url(f"{server.url}/")
    page.wait_for_selector('#connection-status[data-state="connected"]', timeout=20000)
    page.wait_for_selector(".js-plotly-plot", timeout=20000)  # plotly drew a figure
    # The ticket grid (dash-ag-grid) and the machine board, each with what it renders.
    for path, shown in (("/maintenance", "#tickets-grid .ag-root"), ("/machines", "text=MILL-01")):
        page.goto(f"{server.url}{path}")
        page.wait_for_selector('#connection-status[data-state="connected"]', timeout=20000)
        page.wait_for_selector(shown, timeout=20000)
    assert csp_messages(watch) == []


def test_wall_renders_without_csp_violations(server, watch):
    page = watch.page
    page.goto(f"{server.url}/wall?token={server.tokens['display']}")
    page.wait_for_selector("#wall .kpi-tile", timeout=20000)
    assert csp_messages(watch) == []


def test_an_injected_inline_script_is_blocked(server, watch):
    """The control: the policy really refuses inline code that is not Dash's."""
    page = watch.page
    page.goto(f"{server.url}/wall?token={server.tokens['display']}")
    page.wait_for_selector("#wall", timeout=20000)
    page.evaluate(
        """() => { const s = document.createElement('script');
                   s.textContent = 'window.__injected = true';
                   document.body.appendChild(s); }"""
    )
    page.wait_for_function("window.__cspViolations.length > 0", timeout=5000)
    assert page.evaluate("window.__injected === undefined")
