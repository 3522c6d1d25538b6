"""The settings page's pure parts: the calendar document as table rows and back, plant-local
times with the plant's zone (daylight-saving days in Europe/Berlin included), the week's
planned time, the wording of errors, and the save callback called as a plain function."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dash import no_update

from callbacks.deps import Deps
from callbacks.settings import add_shift, planned, save
from callbacks.settings_rows import (
    breaks_text,
    clock,
    days_text,
    document_rows,
    local_text,
    next_shift,
    next_stop,
    parse_breaks,
    parse_days,
    parse_local,
    rows_document,
    weekly_minutes,
)
from components.registry import PAGES, find, nav_pages
from components.settings import (
    EMPTY_SHIFTS,
    detail_lines,
    short_message,
    zone_options,
    zone_time,
)
from data.accounts.tokens import Principal
from data.read.calendar_queries import calendar_json, load_calendar
from devtools.factories import add_machines, shift

BERLIN = ZoneInfo("Europe/Berlin")
DOCUMENT = {
    "timezone": "Europe/Berlin",
    "shifts": [
        shift("Early", "06:00", "14:00", breaks=(("10:00", "10:30"),)),
        shift(
            "Night",
            "22:00",
            "06:00",
            days=("mon", "tue", "wed", "thu", "sun"),
            breaks=(("23:30", "00:15"), ("03:00", "03:30")),
        ),
    ],
    "planned_stops": [
        {
            "start": "2026-12-24T00:00:00+01:00",
            "end": "2026-12-27T00:00:00+01:00",
            "reason": "Christmas",
            "machine_id": None,
        },
        {
            "start": "2026-07-06T04:00:00Z",
            "end": "2026-07-06T12:00:00Z",
            "reason": "Spindle overhaul",
            "machine_id": 2,
        },
    ],
}


# -- days and breaks ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "text"),
    [
        (["mon", "tue", "wed", "thu", "fri"], "mon-fri"),
        (["sat", "sun"], "sat, sun"),
        (["mon", "wed", "thu", "fri", "sun"], "mon, wed-fri, sun"),
        (["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "mon-sun"),
        (["fri", "mon"], "mon, fri"),
    ],
)
def test_days_read_as_ranges_and_back(days: list[str], text: str) -> None:
    assert days_text(days) == text
    assert parse_days(text) == sorted(
        days, key=["mon", "tue", "wed", "thu", "fri", "sat", "sun"].index
    )


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("Monday – Wednesday, Sat", ["mon", "tue", "wed", "sat"]),
        ("fri-mon", ["mon", "fri", "sat", "sun"]),
        ("mon mon tue", ["mon", "tue"]),
        ("SUN", ["sun"]),
    ],
)
def test_days_are_read_as_people_write_them(text: str, days: list[str]) -> None:
    assert parse_days(text) == days


@pytest.mark.parametrize(("text", "word"), [("mon-fry", "'fry'"), ("weekdays", "'weekdays'")])
def test_a_word_that_is_not_a_day_is_named(text: str, word: str) -> None:
    with pytest.raises(ValueError, match=word):
        parse_days(text)


def test_no_day_at_all_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one day"):
        parse_days("  ")


def test_breaks_read_and_written() -> None:
    breaks = [{"start": "10:00", "end": "10:30"}, {"start": "18:00", "end": "18:30"}]
    assert breaks_text(breaks) == "10:00-10:30, 18:00-18:30"
    assert parse_breaks("10:00-10:30, 18:00-18:30") == breaks
    assert parse_breaks(" 9:00 – 9.15 ; ") == [{"start": "09:00", "end": "09:15"}]
    assert parse_breaks("") == []
    with pytest.raises(ValueError, match="'10:00' is not a break"):
        parse_breaks("10:00")


def test_clock_is_padded_but_nonsense_is_left_for_the_service() -> None:
    assert clock("6:00") == "06:00"
    assert clock(" 14.30 ") == "14:30"
    assert clock("25:00") == "25:00"
    assert clock(None) == ""


# -- plant-local times ----------------------------------------------------------------------


def test_local_time_carries_the_offset_of_its_season() -> None:
    assert parse_local("2026-01-15 06:00", BERLIN) == "2026-01-15T06:00:00+01:00"
    assert parse_local("2026-07-06 06:00", BERLIN) == "2026-07-06T06:00:00+02:00"
    assert parse_local("2026-12-24", BERLIN) == "2026-12-24T00:00:00+01:00"
    assert local_text("2026-07-06T04:00:00Z", BERLIN) == "2026-07-06 06:00"
    assert local_text(datetime(2026, 1, 15, 5, tzinfo=UTC), BERLIN) == "2026-01-15 06:00"


def test_the_spring_forward_day_in_berlin() -> None:
    """29 March 2026: 02:00 becomes 03:00; the day has 23 hours."""
    assert parse_local("2026-03-29 01:59", BERLIN) == "2026-03-29T01:59:00+01:00"
    assert parse_local("2026-03-29 03:00", BERLIN) == "2026-03-29T03:00:00+02:00"
    with pytest.raises(ValueError, match="does not exist in Europe/Berlin"):
        parse_local("2026-03-29 02:30", BERLIN)
    # Every wall-clock time of that day that exists reads back as written.
    hours = [h for h in range(24) if h != 2]
    for hour in hours:
        text = f"2026-03-29 {hour:02d}:15"
        assert local_text(parse_local(text, BERLIN), BERLIN) == text
    span = datetime.fromisoformat(parse_local("2026-03-30 00:00", BERLIN)) - datetime.fromisoformat(
        parse_local("2026-03-29 00:00", BERLIN)
    )
    assert span == timedelta(hours=23)


def test_the_fall_back_day_in_berlin() -> None:
    """25 October 2026: 03:00 becomes 02:00 again; 02:30 happens twice, the first is meant."""
    assert parse_local("2026-10-25 02:30", BERLIN) == "2026-10-25T02:30:00+02:00"
    assert parse_local("2026-10-25 03:30", BERLIN) == "2026-10-25T03:30:00+01:00"
    # The second 02:30 (01:30 UTC) shows as 02:30 too.
    assert local_text("2026-10-25T01:30:00Z", BERLIN) == "2026-10-25 02:30"
    span = datetime.fromisoformat(parse_local("2026-10-26 00:00", BERLIN)) - datetime.fromisoformat(
        parse_local("2026-10-25 00:00", BERLIN)
    )
    assert span == timedelta(hours=25)


@pytest.mark.parametrize("text", ["24.12.2026 06:00", "2026-13-01 06:00", "2026-02-30", "soon"])
def test_a_time_that_cannot_be_read_says_how_to_write_it(text: str) -> None:
    with pytest.raises(ValueError, match=r"YYYY-MM-DD HH:MM|not a date"):
        parse_local(text, BERLIN)


# -- rows <-> document ----------------------------------------------------------------------


def test_document_to_rows_and_back_is_the_same_calendar() -> None:
    zone, shifts, stops = document_rows(DOCUMENT)
    assert zone == "Europe/Berlin"
    assert shifts[1] == {
        "row_id": "shift-1",
        "name": "Night",
        "start": "22:00",
        "end": "06:00",
        "days": "mon-thu, sun",
        "breaks": "23:30-00:15, 03:00-03:30",
    }
    assert stops[1] == {
        "row_id": "stop-1",
        "start": "2026-07-06 06:00",
        "end": "2026-07-06 14:00",
        "reason": "Spindle overhaul",
        "machine": "2",
    }
    assert stops[0]["machine"] == "plant"
    document, problems = rows_document(zone, shifts, stops)
    assert problems == {}
    assert document["shifts"] == DOCUMENT["shifts"]
    same = [
        (datetime.fromisoformat(s["start"]), datetime.fromisoformat(s["end"]), s["machine_id"])
        for s in document["planned_stops"]
    ]
    assert same == [
        (
            datetime.fromisoformat(s["start"].replace("Z", "+00:00")),
            datetime.fromisoformat(s["end"].replace("Z", "+00:00")),
            s["machine_id"],
        )
        for s in DOCUMENT["planned_stops"]
    ]


def test_rows_that_cannot_be_read_are_named_like_the_service_names_fields() -> None:
    shifts = [{"name": "Early", "start": "6:00", "end": "14:00", "days": "mo-fr", "breaks": "x"}]
    stops = [{"start": "2026-03-29 02:30", "end": "tomorrow", "reason": "", "machine": "plant"}]
    document, problems = rows_document("Europe/Berlin", shifts, stops)
    assert set(problems) == {
        "shifts.0.days",
        "shifts.0.breaks",
        "planned_stops.0.start",
        "planned_stops.0.end",
    }
    assert document["shifts"][0]["start"] == "06:00"
    lines = detail_lines(problems, shifts, stops)
    assert "Shift 1 “Early”, days: unknown day 'mo'" in lines[0]
    assert lines[2].startswith("Planned stop 1, start: 2026-03-29 02:30 does not exist")


def test_the_services_details_read_as_sentences() -> None:
    shifts = [{"name": "Early"}, {"name": "Late"}]
    stops = [{"reason": "Christmas"}]
    details = {
        "timezone": "'Mars/Base' is not an IANA time zone",
        "calendar": "the shifts 'Early' (mon) and 'Late' (mon) overlap",
        "shifts.1.start": "must be a time of day between 00:00 and 23:59",
        "shifts.0.breaks.1.end": "must be a time of day as HH:MM",
        "shifts.1": "the break 23:00-23:30 must lie inside the shift 14:00-22:00",
        "planned_stops.0.machine_id": "must be a machine id (a whole number) or null",
        "planned_stops": "unknown machine 9",
    }
    assert detail_lines(details, shifts, stops) == [
        "Time zone: 'Mars/Base' is not an IANA time zone",
        "The shifts 'Early' (mon) and 'Late' (mon) overlap",
        "Shift 2 “Late”, start: must be a time of day between 00:00 and 23:59",
        "Shift 1 “Early”, break 2 end: must be a time of day as HH:MM",
        "Shift 2 “Late”: the break 23:00-23:30 must lie inside the shift 14:00-22:00",
        "Planned stop 1 “Christmas”, machine: must be a machine id (a whole number) or null",
        "Planned stops: unknown machine 9",
    ]


def test_the_message_leaves_the_raw_field_path_to_the_list_below_it() -> None:
    details = {"shifts.0.start": "must be a time of day as HH:MM, e.g. 06:00"}
    for said in ("shifts.0.start: must", "shifts.0.start must"):
        message = f"The calendar cannot be used: {said} be a time of day as HH:MM, e.g. 06:00."
        assert short_message(message, details) == "The calendar cannot be used:"
    overlap = {"calendar": "the shifts 'Early' (mon) and 'Late' (mon) overlap"}
    message = "The calendar cannot be used: the shifts 'Early' (mon) and 'Late' (mon) overlap."
    assert short_message(message, overlap) == "The calendar cannot be used:"
    other = "A planned stop names machine 9, which does not exist."
    assert short_message(other, {"planned_stops": "unknown machine 9"}) == other


# -- the week's planned time ----------------------------------------------------------------


def test_planned_minutes_are_shift_lengths_less_breaks_times_days() -> None:
    _, shifts, _ = document_rows(DOCUMENT)
    # Early: 8 h - 30 min on 5 days; Night: 8 h - 45 min - 30 min on 5 days (past midnight).
    assert weekly_minutes(shifts) == (5 * 450 + 5 * 405, 0)
    broken = [*shifts, {"start": "25:00", "end": "06:00", "days": "mon", "breaks": ""}]
    assert weekly_minutes(broken) == (5 * 450 + 5 * 405, 1)


def _text(component: Any) -> str:
    return json.dumps(component, default=lambda c: c.to_plotly_json(), ensure_ascii=False)


def test_the_summary_says_the_week_or_that_every_hour_counts() -> None:
    assert EMPTY_SHIFTS in _text(planned([]))
    assert "168 h" in _text(planned([]))
    _, shifts, _ = document_rows(DOCUMENT)
    summary = _text(planned(shifts))
    assert "71 h 15 min" in summary and "2 shifts" in summary and "42 %" in summary
    assert EMPTY_SHIFTS not in summary


def test_a_new_shift_follows_the_last_one() -> None:
    row = next_shift([{"name": "Shift 2", "start": "06:00", "end": "14:00", "days": "sat, sun"}])
    assert (row["name"], row["start"], row["end"], row["days"]) == (
        "Shift 3",
        "14:00",
        "22:00",
        "sat, sun",
    )
    first = next_shift([])
    assert (first["name"], first["start"], first["end"], first["days"]) == (
        "Shift 1",
        "06:00",
        "14:00",
        "mon-fri",
    )
    transaction, focus = add_shift(1, [{"name": "Early", "start": "18:00", "end": "22:00"}])
    assert transaction["add"][0]["start"] == "22:00"
    assert transaction["add"][0]["end"] == "06:00"
    assert focus == {"grid": "settings-shifts", "index": 1, "column": "name", "nonce": 1}


def test_a_new_stop_is_tomorrow_in_plant_time() -> None:
    late_evening = datetime(2026, 7, 6, 22, 30, tzinfo=UTC)  # already 7 July in Berlin
    row = next_stop(BERLIN, late_evening)
    assert (row["start"], row["end"], row["machine"]) == (
        "2026-07-08 00:00",
        "2026-07-09 00:00",
        "plant",
    )


def test_zone_choices_and_local_time() -> None:
    now = datetime(2026, 7, 6, 12, tzinfo=UTC)
    options = {o["value"]: o["label"] for o in zone_options(now)}
    assert options["Europe/Berlin"] == "Europe/Berlin · UTC+02:00"
    assert options["America/St_Johns"] == "America/St_Johns · UTC-02:30"
    assert zone_time("Europe/Berlin", now) == "Local time there: Mon 2026-07-06 14:00 (CEST)"
    assert zone_time(None, now) == "Choose a time zone."


# -- the save callback, against a real database -----------------------------------------------


def _deps(services: Any, role: str) -> Deps:
    return Deps(db=services.db, services=services, principal=lambda: Principal("pat", role))


def _stored(services: Any) -> dict[str, Any]:
    with services.db.read() as session:
        return calendar_json(load_calendar(session))


def test_an_admin_saves_the_tables_and_gets_them_back_as_stored(services: Any) -> None:
    _, shifts, stops = document_rows({**DOCUMENT, "planned_stops": DOCUMENT["planned_stops"][:1]})
    result, new_shifts, new_stops, zone = save(
        _deps(services, "admin"), "Europe/Berlin", shifts, []
    )
    assert "Saved" in _text(result) and '"role": "status"' in _text(result)
    assert zone == "Europe/Berlin"
    assert [r["name"] for r in new_shifts] == ["Early", "Night"] and new_stops == []
    assert _stored(services)["shifts"] == DOCUMENT["shifts"]
    assert stops  # the stop rows were only left out of this save


@pytest.mark.parametrize(
    ("role", "change", "expected"),
    [
        ("viewer", {}, "Only admins can change the plant calendar."),
        ("operator", {}, "Only admins can change the plant calendar."),
        ("admin", {"start": "25:00"}, "Shift 1 “Early”, start: must be a time of day between"),
        ("admin", {"start": "23:00"}, "overlap"),
        ("admin", {"days": "mon-fry"}, "Shift 1 “Early”, days: unknown day 'fry'"),
    ],
)
def test_a_refused_save_changes_nothing(
    services: Any, role: str, change: dict[str, str], expected: str
) -> None:
    add_machines(services.db, 2)
    services.replace_calendar(DOCUMENT)
    before = _stored(services)
    zone, shifts, stops = document_rows(before)
    shifts[0] = {**shifts[0], **change}
    result, *kept = save(_deps(services, role), zone, shifts, stops)
    text = _text(result)
    assert '"role": "alert"' in text and "Not saved" in text and expected in text
    assert all(k is no_update for k in kept)  # the tables keep what the admin typed
    assert _stored(services) == before


@pytest.mark.parametrize(
    ("role", "linked"),
    [
        ("admin", True),
        ("operator", False),
        ("viewer", False),
        (None, False),  # the anonymous reader of a demo
        ("display", False),
    ],
)
def test_only_an_admin_gets_the_settings_link(role: str | None, linked: bool) -> None:
    paths = [p.path for p in nav_pages(PAGES, role)]
    assert ("/settings" in paths) is linked
    assert find(PAGES, "/settings").allows(role) is linked
    if role in ("viewer", "operator", None):
        assert paths[:4] == ["/", "/machines", "/maintenance", "/production"]
