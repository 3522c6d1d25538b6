"""Every benchmark and script the README and docs name runs, on small inputs: a documented
command that is missing or broken fails here. Benchmarks are measurements (they exit 1 when a
target is missed, which a small or busy run may do); what is checked is that each one runs to
its report, not its figures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.browser import require_chromium
from scripts import screenshots

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
TOOL = re.compile(r"python -m ((?:bench|scripts)\.[a-z_]+)")

# Small inputs for each documented tool; the browser ones need Chromium.
CASES: dict[str, tuple[list[str], bool]] = {
    "bench.queries": (["--machines", "2", "--days", "2", "--runs", "2"], False),
    "bench.fanout": (["--clients", "5", "--seconds", "1", "--rate", "5", "--drain", "2"], False),
    "bench.export": (["--rows", "2000", "--repeat", "1"], False),
    "bench.login_flood": (["--clients", "2", "--seconds", "1", "--cycles", "1"], False),
    "bench.ui_latency": (
        ["--tickets", "3", "--gap-ms", "100", "--wall-tickets", "3", "--burst", "5"],
        True,
    ),
    "scripts.screenshots": (["--out", "{tmp}"], True),
}


def documented_tools() -> set[str]:
    return {m for doc in DOCS for m in TOOL.findall(doc.read_text())}


def test_every_documented_tool_has_a_case() -> None:
    assert documented_tools() <= set(CASES), documented_tools() - set(CASES)
    assert documented_tools(), "the README names its benchmarks"


@pytest.mark.parametrize("module", sorted(CASES))
def test_documented_tool_runs(module: str, tmp_path: Path) -> None:
    argv, needs_browser = CASES[module]
    if needs_browser:
        require_chromium()
    args = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = done.stdout + done.stderr
    assert "Traceback" not in report, report[-3000:]
    assert done.returncode in (0, 1), report[-3000:]
    assert done.stdout.strip() or module.startswith("scripts."), report[-3000:]
    if module == "scripts.screenshots":
        shots = sorted(tmp_path.glob("*.png"))
        expected = len(screenshots.PAGES) + len(screenshots.ADMIN_PAGES) + len(screenshots.EXTRA)
        assert len(shots) == expected and all(p.stat().st_size > 20_000 for p in shots), shots
