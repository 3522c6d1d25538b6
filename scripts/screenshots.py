"""Screenshots of every page of a live demo plant (1440x900) into docs/screenshots/.

python -m scripts.screenshots                 # into docs/screenshots/
python -m scripts.screenshots --out DIR       # anywhere else
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from devtools.browser import ARGS, CHROMIUM
from devtools.live_server import ROOT, LiveServer

PAGES = {
    "dashboard": "/",
    "machines": "/machines",
    "machine-detail": "/machines?id=3",
    "maintenance": "/maintenance",
    "production": "/production",
}


def main(argv: list[str] | None = None) -> int:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(prog="python -m scripts.screenshots", description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    out = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(Path(tmp), demo=True).start(timeout=120)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                context = browser.new_context(viewport={"width": 1440, "height": 900})
                page = context.new_page()
                server.sign_in(page, "operator", "/")
                for name, path in PAGES.items():
                    page.goto(server.url + path)
                    page.wait_for_selector('#connection-status[data-state="connected"]')
                    page.wait_for_load_state("networkidle")
                    # Graphs render after their callbacks: wait until none is loading.
                    page.wait_for_function(
                        "![...document.querySelectorAll('.js-plotly-plot')]"
                        ".some(g => !g.querySelector('.main-svg'))",
                        timeout=20000,
                    )
                    page.wait_for_timeout(2500)
                    page.screenshot(path=str(out / f"{name}.png"))
                    print(f"wrote {out / name}.png", file=sys.stderr)
                browser.close()
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
