"""Screenshots of the wall against a running server (default: the demo plant of `python -m app`).

    python scripts/screenshots_wall.py --url http://127.0.0.1:8050 [--token T] [--4k]

Writes wall-demo-<view>-<width>.png for the plant overview, one area board and the
maintenance queue, at 1920x1080 (and 3840x2160 with --4k). Needs Debian's chromium.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.browser import ARGS, CHROMIUM  # noqa: E402

VIEWS = {"plant": "", "area": "area={area}", "queue": "rotate=3600"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8050")
    parser.add_argument("--token", help="a display token (not needed with anonymous read)")
    parser.add_argument("--area", help="area for the area board (default: the first)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--4k", dest="uhd", action="store_true", help="also 3840x2160")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sizes = [(1920, 1080)] + ([(3840, 2160)] if args.uhd else [])
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for width, height in sizes:
            page = browser.new_page(viewport={"width": width, "height": height})
            if args.token:
                page.goto(f"{args.url}/wall?token={args.token}")
            area = args.area
            for name, query in VIEWS.items():
                if name == "area" and area is None:
                    area = page.evaluate(
                        "() => (document.querySelector('.cell-area') || {}).textContent || ''"
                    )
                q = query.format(area=quote(area or ""))
                page.goto(f"{args.url}/wall" + (f"?{q}" if q else ""))
                page.wait_for_selector(".kpi-tile", timeout=15000)
                if name == "queue":  # the queue is the last view of the rotation: jump there
                    page.evaluate(
                        """() => window.dash_clientside.set_props('wall-rotate',
                            {n_intervals: -1})"""
                    )
                    page.wait_for_selector('[data-view^="queue"]', timeout=10000)
                page.wait_for_timeout(1500)
                path = out / f"wall-demo-{name}-{width}.png"
                page.screenshot(path=str(path))
                print(f"wrote {path}")
            page.close()
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
