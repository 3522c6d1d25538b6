"""The status colours stay apart for people with colour-vision deficiency: every pair of states
keeps a CAM02-UCS colour difference above MIN_DELTA_E for normal vision and under simulated
deuteranopia, protanopia and tritanopia (Machado et al. 2009, full severity), and every state
stands out from the dark panels it is drawn on."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

colorspacious = pytest.importorskip("colorspacious")

from components.theme import PANEL, STATUS_COLORS  # noqa: E402

MIN_DELTA_E = 12.0  # CAM02-UCS; about 1 is a just-noticeable difference
MIN_FROM_PANEL = 30.0
SIMULATIONS = (None, "deuteranomaly", "protanomaly", "tritanomaly")


def srgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255.0


def seen(hex_colour: str, deficiency: str | None) -> np.ndarray:
    """The colour as a person with `deficiency` sees it (sRGB 0..1)."""
    colour = srgb(hex_colour)
    if deficiency is None:
        return colour
    space = {"name": "sRGB1+CVD", "cvd_type": deficiency, "severity": 100}
    return np.clip(colorspacious.cspace_convert(colour, space, "sRGB1"), 0.0, 1.0)


def delta_e(a: np.ndarray, b: np.ndarray) -> float:
    return float(colorspacious.deltaE(a, b, input_space="sRGB1", uniform_space="CAM02-UCS"))


@pytest.mark.parametrize("deficiency", SIMULATIONS)
def test_every_pair_of_states_stays_apart(deficiency):
    close = {
        f"{a}/{b}": round(d, 1)
        for a, b in itertools.combinations(STATUS_COLORS, 2)
        if (d := delta_e(seen(STATUS_COLORS[a], deficiency), seen(STATUS_COLORS[b], deficiency)))
        <= MIN_DELTA_E
    }
    assert close == {}, f"too close under {deficiency or 'normal vision'}: {close}"


@pytest.mark.parametrize("deficiency", SIMULATIONS)
def test_every_state_stands_out_from_the_panel(deficiency):
    panel = seen(PANEL, deficiency)
    faint = {
        s: round(d, 1)
        for s, c in STATUS_COLORS.items()
        if (d := delta_e(seen(c, deficiency), panel)) <= MIN_FROM_PANEL
    }
    assert faint == {}
