"""One look for every page: status colours, traffic-light thresholds and the plotly template.

The status palette is chosen so that every pair of states stays apart (CAM02-UCS ΔE above 12)
for normal vision and under simulated deuteranopia, protanopia and tritanopia, and every colour
stands out from the dark panels (tests/test_palette.py checks both). Idle is amber and setup
lavender: the old amber/yellow pair was nearly one colour under protanopia.

Traffic-light thresholds (OEE, output against target, utilization) are read once, at import,
from environment variables, so a plant sets its own targets without a code change (see
docs/kpis.md).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import plotly.graph_objects as go
import plotly.io as pio

STATUS_COLORS = {
    "running": "#1fee84",
    "idle": "#dd931f",
    "setup": "#e09be2",
    "down": "#e03131",
    "maintenance": "#457eef",
    "offline": "#9b9d9f",
}
# Text on a status-coloured background (the wall's cells): the colour with the better contrast.
STATUS_INK = {status: "#0b0d10" for status in STATUS_COLORS} | {"down": "#ffffff"}
PRIORITY_COLORS = {
    "low": "#868e96",
    "medium": "#1c7ed6",
    "high": "#f59f00",
    "critical": "#e03131",
}
BACKGROUND = "#16191d"
PANEL = "#1f2328"
TEXT = "#e9ecef"
GRID = "#2c3138"
GOOD_COLOR = "#2fb344"
SCRAP_COLOR = "#e03131"

# Traffic lights: "good" meets the target, "fair" needs watching, "poor" needs action.
BAND_COLORS = {"good": "#2fb344", "fair": "#f59f00", "poor": "#e03131"}
BAND_WORDS = {"good": "on target", "fair": "watch", "poor": "act"}


@dataclass(frozen=True)
class Bands:
    """Thresholds of a ratio (0..1): at least `green` is good, at least `amber` is fair, below
    that poor."""

    green: float
    amber: float

    def band(self, value: float | None) -> str:
        """ "good", "fair" or "poor" for a ratio; "" without a value."""
        if value is None:
            return ""
        return "good" if value >= self.green else "fair" if value >= self.amber else "poor"

    def color(self, value: float | None) -> str:
        return BAND_COLORS.get(self.band(value), "#868e96")


def _percent_env(name: str, default: float) -> float:
    """A threshold in percent from the environment (e.g. MILLDASH_OEE_GREEN=80), as a ratio;
    a missing, unreadable or out-of-range value keeps the default."""
    raw = os.environ.get(name, "").strip().rstrip("%")
    try:
        value = float(raw) / 100.0
    except ValueError:
        return default
    return value if 0.0 <= value <= 10.0 else default


def _bands(prefix: str, green: float, amber: float) -> Bands:
    g = _percent_env(f"MILLDASH_{prefix}_GREEN", green)
    a = _percent_env(f"MILLDASH_{prefix}_AMBER", amber)
    return Bands(green=g, amber=min(a, g))


# OEE: 85 % is the usual "world class" mark; under 60 % needs attention.
OEE_BANDS = _bands("OEE", 0.85, 0.60)
# Output (good + scrap) against the target at the ideal cycle time.
TARGET_BANDS = _bands("TARGET", 0.95, 0.80)
# Share of the window a machine spent running.
UTILIZATION_BANDS = _bands("UTILIZATION", 0.75, 0.50)

TEMPLATE_NAME = "milldash"

pio.templates[TEMPLATE_NAME] = go.layout.Template(
    layout=go.Layout(
        paper_bgcolor=PANEL,
        plot_bgcolor=PANEL,
        font={"color": TEXT, "family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"},
        colorway=["#4dabf7", "#2fb344", "#f59f00", "#e03131", "#845ef7", "#20c997"],
        xaxis={"gridcolor": GRID, "zerolinecolor": GRID},
        yaxis={"gridcolor": GRID, "zerolinecolor": GRID},
        margin={"l": 50, "r": 20, "t": 40, "b": 40},
        hoverlabel={"bgcolor": BACKGROUND},
    )
)
