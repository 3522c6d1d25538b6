"""The UI's words for codes, durations, plurals and past times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from components.wording import ago, duration, label, plural


@pytest.mark.parametrize(
    ("code", "text"),
    [("in_progress", "in progress"), ("on_hold", "on hold"), ("open", "open"), (None, "–")],
)
def test_codes_read_as_words(code, text):
    assert label(code) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "–"),
        (0, "0 s"),
        (59.4, "59 s"),
        (60, "1 min"),
        (23 * 60 + 5, "23 min"),
        (3 * 3600, "3 h"),
        (3 * 3600 + 42 * 60, "3 h 42 min"),
        (2 * 86400 + 5 * 3600 + 59, "2 d 5 h"),
        (-5, "0 s"),
    ],
)
def test_durations_carry_units(seconds, text):
    assert duration(seconds) == text


def test_plurals():
    assert plural(1, "repair") == "1 repair"
    assert plural(0, "repair") == "0 repairs"
    assert plural(2, "match", "matches") == "2 matches"


def test_ago():
    now = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    assert ago(now - timedelta(seconds=10), now) == "just now"
    assert ago(now - timedelta(minutes=23), now) == "23 min ago"
    assert ago(None, now) == "–"
