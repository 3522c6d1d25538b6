"""The calendar document as the settings page's tables show it, and back.

A shift row is `{"row_id", "name", "start", "end", "days": "mon-fri", "breaks": "10:00-10:30,
18:00-18:30"}`; a planned-stop row is `{"row_id", "start", "end", "reason", "machine"}` with its
times in plant-local wall-clock time ("YYYY-MM-DD HH:MM") and `machine` the machine's id as text
or WHOLE_PLANT. Everything here is pure: the service checks the document it is given.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from components.settings_grids import WHOLE_PLANT
from data.calendar.document import DAY_MIN, WEEKDAYS, parse_clock, span

LOCAL_FORMAT = "%Y-%m-%d %H:%M"
_LOCAL = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]+(\d{1,2})[:.](\d{2}))?$")
_CLOCK = re.compile(r"^(\d{1,2})[:.h](\d{2})$")
_DASHES = re.compile(r"\s*[-–—]\s*")
DAYS_HINT = "use mon, tue, wed, thu, fri, sat, sun or a range such as mon-fri"
BREAKS_HINT = "write each break as 10:00-10:30, separated by commas"


def new_row_id() -> str:
    return secrets.token_hex(6)


# -- days and breaks ------------------------------------------------------------------------


def days_text(days: list[str]) -> str:
    """["mon", "tue", "wed", "sat"] -> "mon-wed, sat": runs of three days or more as a range."""
    chosen = sorted({d for d in days if d in WEEKDAYS}, key=WEEKDAYS.index)
    parts: list[str] = []
    run: list[str] = []
    for day in [*chosen, None]:
        if day is not None and run and WEEKDAYS.index(day) == WEEKDAYS.index(run[-1]) + 1:
            run.append(day)
            continue
        if run:
            parts.extend([f"{run[0]}-{run[-1]}"] if len(run) >= 3 else run)
        run = [day] if day is not None else []
    return ", ".join(parts)


def _day(word: str) -> str:
    short = word.strip().lower()[:3]
    if short not in WEEKDAYS:
        raise ValueError(f"unknown day {word.strip()!r}: {DAYS_HINT}")
    return short


def parse_days(text: str | None) -> list[str]:
    """ "mon-fri, sun" -> ["mon", ..., "fri", "sun"] (full names and wrapping ranges such as
    "fri-mon" are fine); ValueError naming the word that is not a day."""
    found: list[str] = []
    for token in re.split(r"[,;/\s]+", _DASHES.sub("-", text or "").strip()):
        if not token:
            continue
        if "-" in token:
            first, _, last = token.partition("-")
            i, j = WEEKDAYS.index(_day(first)), WEEKDAYS.index(_day(last))
            found.extend(WEEKDAYS[(i + k) % 7] for k in range((j - i) % 7 + 1))
        else:
            found.append(_day(token))
    if not found:
        raise ValueError(f"name at least one day: {DAYS_HINT}")
    return sorted(set(found), key=WEEKDAYS.index)


def clock(text: Any) -> str:
    """A time of day as typed, made HH:MM where it plainly is one ("6:00" -> "06:00"); any
    other text is returned as it is, for the service to name the problem."""
    raw = str(text if text is not None else "").strip()
    match = _CLOCK.match(raw)
    return f"{int(match[1]):02d}:{match[2]}" if match else raw


def breaks_text(breaks: list[dict[str, str]]) -> str:
    """[{"start": "10:00", "end": "10:30"}] -> "10:00-10:30"."""
    return ", ".join(f"{b['start']}-{b['end']}" for b in breaks)


def parse_breaks(text: str | None) -> list[dict[str, str]]:
    """ "10:00-10:30, 18:00 - 18:30" -> [{"start", "end"}, ...]; ValueError for a part that is
    not two times joined by a dash."""
    found: list[dict[str, str]] = []
    for part in re.split(r"[,;]", text or ""):
        part = _DASHES.sub("-", part.strip())
        if not part:
            continue
        start, dash, end = part.partition("-")
        if not dash or not start or not end:
            raise ValueError(f"{part!r} is not a break: {BREAKS_HINT}")
        found.append({"start": clock(start), "end": clock(end)})
    return found


# -- plant-local times ----------------------------------------------------------------------


def local_text(value: str | datetime, zone: ZoneInfo) -> str:
    """An ISO 8601 instant as plant-local wall-clock time, "YYYY-MM-DD HH:MM"."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value.astimezone(zone).strftime(LOCAL_FORMAT)


def parse_local(text: str | None, zone: ZoneInfo) -> str:
    """Plant-local "YYYY-MM-DD HH:MM" (a date alone is its midnight) as ISO 8601 with the
    zone's offset at that moment. A wall-clock time that happens twice (clocks go back) is
    the first of the two; one that never happens (clocks jump forward) is a ValueError."""
    match = _LOCAL.match((text or "").strip())
    if not match:
        raise ValueError("must be a plant-local time as YYYY-MM-DD HH:MM, e.g. 2026-12-24 06:00")
    year, month, day, hour, minute = (int(g) if g else 0 for g in match.groups())
    try:
        naive = datetime(year, month, day, hour, minute)
    except ValueError:
        raise ValueError(f"{(text or '').strip()} is not a date and time of day") from None
    aware = naive.replace(tzinfo=zone, fold=0)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise ValueError(
            f"{naive.strftime(LOCAL_FORMAT)} does not exist in {zone.key}: "
            "the clocks jump forward then"
        )
    return aware.isoformat(timespec="seconds")


# -- rows <-> document ----------------------------------------------------------------------


def shift_row(shift: dict[str, Any], row_id: str | None = None) -> dict[str, Any]:
    return {
        "row_id": row_id or new_row_id(),
        "name": shift.get("name", ""),
        "start": shift.get("start", ""),
        "end": shift.get("end", ""),
        "days": days_text(list(shift.get("days") or [])),
        "breaks": breaks_text(list(shift.get("breaks") or [])),
    }


def stop_row(stop: dict[str, Any], zone: ZoneInfo, row_id: str | None = None) -> dict[str, Any]:
    machine = stop.get("machine_id")
    return {
        "row_id": row_id or new_row_id(),
        "start": local_text(stop["start"], zone),
        "end": local_text(stop["end"], zone),
        "reason": stop.get("reason") or "",
        "machine": WHOLE_PLANT if machine is None else str(machine),
    }


def document_rows(
    document: dict[str, Any],
) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:
    """(zone name, shift rows, planned-stop rows) of a GET /api/v1/calendar document."""
    zone = ZoneInfo(document["timezone"])
    shifts = [shift_row(s, f"shift-{i}") for i, s in enumerate(document["shifts"])]
    stops = [stop_row(p, zone, f"stop-{i}") for i, p in enumerate(document["planned_stops"])]
    return document["timezone"], shifts, stops


def _machine_id(value: Any) -> int | str | None:
    text = str(value if value is not None else WHOLE_PLANT).strip()
    if text in (WHOLE_PLANT, ""):
        return None
    return int(text) if text.isdigit() else text  # not a number: the service says so


def rows_document(
    timezone: str, shifts: list[dict[str, Any]], stops: list[dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The calendar document of the tables, and the problems found reading them, keyed like
    the service's details ("shifts.0.days", "planned_stops.1.start")."""
    problems: dict[str, str] = {}
    try:
        zone: ZoneInfo | None = ZoneInfo(timezone)
    except (ValueError, KeyError, OSError):  # the service names an unknown zone
        zone = None
    document_shifts = []
    for i, row in enumerate(shifts):
        shift: dict[str, Any] = {
            "name": str(row.get("name") or "").strip(),
            "start": clock(row.get("start")),
            "end": clock(row.get("end")),
        }
        for field, parse in (("days", parse_days), ("breaks", parse_breaks)):
            try:
                shift[field] = parse(row.get(field))
            except ValueError as exc:
                problems[f"shifts.{i}.{field}"] = str(exc)
        document_shifts.append(shift)
    document_stops = []
    for i, row in enumerate(stops):
        stop: dict[str, Any] = {
            "reason": str(row.get("reason") or "").strip(),
            "machine_id": _machine_id(row.get("machine")),
        }
        for field in ("start", "end"):
            try:
                stop[field] = parse_local(row.get(field), zone) if zone else row.get(field)
            except ValueError as exc:
                problems[f"planned_stops.{i}.{field}"] = str(exc)
        document_stops.append(stop)
    document = {"timezone": timezone, "shifts": document_shifts, "planned_stops": document_stops}
    return document, problems


# -- the week's planned time ----------------------------------------------------------------


def shift_minutes(row: dict[str, Any]) -> int:
    """A shift row's planned minutes per week: its length less its breaks, times its days
    (a shift that ends at or before its start runs past midnight). ValueError for a row that
    cannot be read."""
    lo, hi = span(parse_clock(clock(row.get("start"))), parse_clock(clock(row.get("end"))))
    paused = 0
    for item in parse_breaks(row.get("breaks")):
        b_lo, b_hi = span(parse_clock(item["start"]), parse_clock(item["end"]))
        if b_lo < lo:
            b_lo, b_hi = b_lo + DAY_MIN, b_hi + DAY_MIN
        paused += max(0, min(b_hi, hi) - max(b_lo, lo))
    return (hi - lo - paused) * len(parse_days(row.get("days")))


def weekly_minutes(shifts: list[dict[str, Any]]) -> tuple[int, int]:
    """(planned minutes per week of the rows that can be read, number of rows that cannot)."""
    total, unread = 0, 0
    for row in shifts:
        try:
            total += shift_minutes(row)
        except ValueError:
            unread += 1
    return total, unread


def next_shift(shifts: list[dict[str, Any]]) -> dict[str, Any]:
    """A new row that follows the last shift (same days, eight hours from its end), or an
    early shift on weekdays; named "Shift N" with N not yet taken."""
    names = {str(r.get("name") or "") for r in shifts}
    number = len(shifts) + 1
    while f"Shift {number}" in names:
        number += 1
    start, days = "06:00", "mon-fri"
    if shifts:
        last = shifts[-1]
        try:
            start = parse_clock(clock(last.get("end"))).strftime("%H:%M")
            days = days_text(parse_days(last.get("days"))) or days
        except ValueError:
            pass
    hour, minute = int(start[:2]), start[3:]
    end = f"{(hour + 8) % 24:02d}:{minute}"
    return {
        "row_id": new_row_id(),
        "name": f"Shift {number}",
        "start": start,
        "end": end,
        "days": days,
        "breaks": "",
    }


def next_stop(zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    """A new planned stop: tomorrow, a whole plant-local day, for the whole plant."""
    day = now.astimezone(zone).date().toordinal() + 1
    start = datetime.fromordinal(day)
    end = datetime.fromordinal(day + 1)
    return {
        "row_id": new_row_id(),
        "start": start.strftime(LOCAL_FORMAT),
        "end": end.strftime(LOCAL_FORMAT),
        "reason": "",
        "machine": WHOLE_PLANT,
    }
