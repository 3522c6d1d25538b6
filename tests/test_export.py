"""CSV export: the API download and the CLI give exactly the rows of GET /tickets, safely."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, update

from data.accounts.tokens import create_token
from data.events import RecordingPublisher
from data.read.ticket_export import HEADER
from data.store.db import Database
from data.store.models import Machine, Ticket
from data.write.services import Services
from devtools.app_under_test import app_with_machines
from tests.conftest import FakeClock

ROOT = Path(__file__).resolve().parent.parent
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
TEXT_COLUMNS = ("machine", "area", "title", "description", "priority", "status", "assignee")
TEXT_COLUMNS += ("reported_by",)
HEADER_LINE = ",".join(HEADER) + "\r\n"


@dataclass
class Env:
    client: Any
    tokens: dict[str, str]
    services: Services
    clock: FakeClock
    db: Database
    url: str

    def get(self, path: str, role: str | None = "viewer", **query: Any):
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return self.client.get(f"/api/v1{path}", headers=headers, query_string=query)

    def export(self, **query: Any) -> str:
        response = self.get("/tickets/export.csv", **query)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_data().decode("utf-8")

    def ticket(self, actor: str = "op-anna", **body: Any) -> int:
        payload = {"machine_id": 1, "title": "Spindle noise", "priority": "medium", **body}
        self.clock.advance(hours=5)
        return self.services.create_ticket(payload, actor)["id"]

    def move(self, ticket_id: int, *statuses: str, **other: Any) -> None:
        for status in statuses:
            self.clock.advance(minutes=47)
            self.services.update_ticket(ticket_id, {"status": status, **other}, "tech-bo")


@pytest.fixture
def env(db_url: str) -> Env:
    app, db = app_with_machines(db_url, 3)
    tokens = {r: create_token(db, r, f"{r}-bot") for r in ("viewer", "admin", "display")}
    clock = FakeClock()
    services = Services(db, RecordingPublisher(), clock)
    yield Env(app.server.test_client(), tokens, services, clock, db, db_url)
    db.dispose()


@pytest.fixture
def plant(env: Env) -> Env:
    """Tickets in every status on three machines, some reopened, across the DST change."""
    prios = ("low", "medium", "high", "critical")
    for i in range(14):
        tid = env.ticket(
            machine_id=1 + i % 3,
            title=f"Defect number {i}",
            description=f'Coolant, chips and "noise" #{i}' if i % 2 else "",
            priority=prios[i % 4],
            assignee="tech-bo" if i % 3 == 0 else None,
        )
        path = (
            (),
            ("in_progress",),
            ("on_hold",),
            ("in_progress", "resolved"),
            ("in_progress", "resolved", "closed"),
            ("cancelled",),
            ("in_progress", "resolved", "open"),
        )[i % 7]
        env.move(tid, *path)
    env.clock.advance(days=30)  # after 2026-03-29: Europe/Berlin is on summer time
    env.move(env.ticket(title="After the clock change", priority="high"), "in_progress")
    return env


def parse(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert tuple(rows[0]) == HEADER
    return rows[1:]


def neutralised(value: str | None) -> str:
    if not value:
        return ""
    return "'" + value if value.startswith(TRIGGERS) else value


def local(value: str | None, zone: ZoneInfo) -> str:
    if value is None:
        return ""
    return datetime.fromisoformat(value).astimezone(zone).isoformat()


def expected_rows(env: Env, zone: str = "UTC", **query: Any) -> list[list[str]]:
    """The CSV rows, built independently from the JSON API (list + each ticket's history)."""
    tz = ZoneInfo(zone)
    listed = env.get("/tickets", limit=1000, **query)
    assert listed.status_code == 200, listed.get_json()
    rows = []
    for item in listed.get_json()["items"]:
        history = env.get(f"/tickets/{item['id']}").get_json()["history"]
        moves = [h for h in history if h["field"] == "status"]
        first = next((h["at"] for h in moves if h["from"] == "open"), None)
        closed = next((h["at"] for h in moves if h["to"] == "closed"), None)
        hours = ""
        if item["resolved_at"]:
            delta = datetime.fromisoformat(item["resolved_at"]) - datetime.fromisoformat(
                item["created_at"]
            )
            hours = f"{delta.total_seconds() / 3600:.2f}"
        rows.append(
            [
                str(item["id"]),
                local(item["created_at"], tz),
                neutralised(item["machine_name"]),
                "Milling",
                neutralised(item["title"]),
                neutralised(item["description"]),
                item["priority"],
                item["status"],
                neutralised(item["assignee"]),
                neutralised(item["reported_by"]),
                local(item["updated_at"], tz),
                local(first, tz),
                local(item["resolved_at"], tz),
                hours,
                local(closed, tz),
            ]
        )
    return rows


# -- the rows are the API's rows ------------------------------------------------------------

FILTERS = [
    {},
    {"status": "open"},
    {"status": "in_progress,on_hold", "sort": "-priority"},
    {"priority": "high,critical", "sort": "machine_name,-created_at"},
    {"machine_id": "2", "sort": "status"},
    {"q": "NUMBER 1"},
    {"q": "mill-03", "sort": "-resolved_at"},
    {"created_from": "2026-03-03T00:00:00Z", "created_to": "2026-03-04T12:00:00+01:00"},
    {"created_from": "2026-03-03", "sort": "title"},
    {"sort": "assignee,-id"},
    {"sort": "updated_at", "limit": "2", "offset": "3"},  # limit/offset: ignored
]


PAGING = ("limit", "offset")


@pytest.mark.parametrize("query", FILTERS, ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()))
def test_export_equals_api_rows(plant, query):
    query = dict(query)
    expected = expected_rows(plant, **{k: v for k, v in query.items() if k not in PAGING})
    assert parse(plant.export(**query)) == expected


def test_time_columns_in_a_zone(plant):
    berlin = parse(plant.export(tz="Europe/Berlin", sort="id"))
    utc = parse(plant.export(sort="id"))
    assert berlin == expected_rows(plant, "Europe/Berlin", sort="id")
    assert berlin[0][1] == "2026-03-02T14:00:00+01:00"
    assert utc[0][1] == "2026-03-02T13:00:00+00:00"
    assert berlin[-1][1].endswith("+02:00")  # summer time
    for b, u in zip(berlin, utc, strict=True):
        for col in (1, 10, 11, 12, 14):
            if u[col]:
                assert datetime.fromisoformat(b[col]) == datetime.fromisoformat(u[col])
        assert b[13] == u[13]
    resolved = [r for r in utc if r[12]]
    assert resolved and all(re.fullmatch(r"\d+\.\d\d", r[13]) for r in resolved)
    assert all(r[13] == "" for r in utc if not r[12])


def test_every_ticket_beyond_the_page_limit(env):
    with env.db.write() as session:
        session.execute(
            insert(Ticket),
            [
                {
                    "machine_id": 1 + i % 3,
                    "title": f"Bulk {i}",
                    "description": "x" * (i % 50),
                    "priority": "low",
                    "status": "open",
                    "reported_by": "import",
                    "created_at": datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=i),
                    "updated_at": datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=i),
                }
                for i in range(2500)
            ],
        )
    rows = parse(env.export(limit=5, sort="created_at"))
    assert [int(r[0]) for r in rows] == list(range(1, 2501))
    assert len(parse(env.export(q="bulk 1"))) == 1 + 10 + 100 + 1000


# -- search text is text (hardening issue, item 13) -----------------------------------------

LITERAL_TITLES = ["Feed 50% too slow", "Axis_X drifts", "Path C:\\cnc\\prog", "Ratio 3/4 wrong"]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("%", ["Feed 50% too slow"]),
        ("_", ["Axis_X drifts"]),
        ("50%", ["Feed 50% too slow"]),
        ("s_x", ["Axis_X drifts"]),
        ("\\", ["Path C:\\cnc\\prog"]),
        ("/", ["Ratio 3/4 wrong"]),
        ("%%", []),
        ("a%s", []),
    ],
)
def test_q_wildcards_match_themselves(env, q, expected):
    for title in [*LITERAL_TITLES, "Plain spindle noise"]:
        env.ticket(title=title, description="")
    listed = env.get("/tickets", q=q).get_json()
    assert sorted(t["title"] for t in listed["items"]) == sorted(expected)
    assert listed["total"] == len(expected)
    assert sorted(r[4] for r in parse(env.export(q=q))) == sorted(expected)


def test_cli_export_shares_the_escaped_filter(env):
    for title in [*LITERAL_TITLES, "Plain spindle noise"]:
        env.ticket(title=title, description="")
    done = run_cli(env.url, "--q", "_")
    assert done.returncode == 0, done.stderr
    assert [r[4] for r in parse(done.stdout.decode())] == ["Axis_X drifts"]
    assert done.stdout == env.get("/tickets/export.csv", q="_").get_data()


# -- hostile text ---------------------------------------------------------------------------

NASTY = [
    'He said "stop", then left',
    "comma, separated, words",
    "line one\nline two\r\nline three",
    "emoji 🛠️🔥 and ünïcödé — 日本語",
    '=HYPERLINK("http://evil.example","click")',
    "+1+2",
    "-2+3",
    "@SUM(A1:A9)",
    "=1+1\n=2+2",
    "'already quoted",
    "plain text",
]
# The services strip surrounding whitespace, so a leading tab or CR can only come from
# elsewhere (an import, the seed, SQL): written directly below.
RAW_PREFIXES = ["\t=1+1", "\r=1+1"]


def test_hostile_text_survives_and_is_neutralised(env):
    ids = [env.ticket(title=f"Case {i}", description=d) for i, d in enumerate(NASTY)]
    ids += [env.ticket(title="Raw", description="placeholder") for _ in RAW_PREFIXES]
    with env.db.write() as session:
        for tid, text in zip(ids[len(NASTY) :], RAW_PREFIXES, strict=True):
            session.execute(update(Ticket).where(Ticket.id == tid).values(description=text))
        session.add(
            Machine(name="=cmd|' /C calc'!A0", area="@evil", kind="x", ideal_cycle_time_s=1)
        )
    hostile = env.services.create_ticket(
        {"machine_id": 4, "title": "-minus title", "priority": "low", "assignee": "+tech"},
        "@reporter",
    )["id"]
    text = env.export(sort="id")
    assert text.startswith(HEADER_LINE)
    rows = parse(text)
    by_id = {int(r[0]): dict(zip(HEADER, r, strict=True)) for r in rows}
    for tid, original in zip(ids, NASTY + RAW_PREFIXES, strict=True):
        cell = by_id[tid]["description"]
        assert cell == neutralised(original)
        restored = cell[1:] if cell.startswith("'") and cell[1:].startswith(TRIGGERS) else cell
        assert restored == original
    row = by_id[hostile]
    assert row["machine"] == "'=cmd|' /C calc'!A0"
    assert row["area"] == "'@evil"
    assert row["title"] == "'-minus title"
    assert row["assignee"] == "'+tech"
    assert row["reported_by"] == "'@reporter"
    for row in by_id.values():
        for col in TEXT_COLUMNS:
            assert not row[col].startswith(TRIGGERS), (col, row[col])
    # RFC 4180: CRLF between records, quoted fields keep their own line breaks.
    assert '"line one\nline two\r\nline three"' in text
    assert '"He said ""stop"", then left"' in text


# A spreadsheet folds a full-width sign to its ASCII form and ignores a leading BOM or
# zero-width space: each of these is still a formula when opened (hardening issue, item 14).
HIDDEN_TRIGGERS = [
    "\uff1d1+2",  # full-width =
    "\uff0b1+2",  # full-width +
    "\uff20SUM(1)",  # full-width @
    "\ufeff=1+2",  # byte-order mark
    "\u200b=1+2",  # zero-width space
    "\u2060\u00a0\u200b-1",  # word joiner, no-break space, zero-width space
]
# Text that only looks unusual: left exactly as stored.
HARMLESS = ["\u22125 mm", "\u00d6lwechsel", "\u65e5\u672c\u8a9e", "\u200bplain", "'\uff1dquoted"]


def test_lookalike_and_hidden_triggers_are_neutralised(env):
    texts = HIDDEN_TRIGGERS + HARMLESS
    ids = [env.ticket(title=f"Hidden {i}", description="placeholder") for i in range(len(texts))]
    # Written straight to the rows: what counts is what the export makes of stored text,
    # however it got there (an import, SQL, an older version's input rules).
    with env.db.write() as session:
        for tid, text in zip(ids, texts, strict=True):
            values = {"description": text, "title": text, "assignee": text}
            session.execute(update(Ticket).where(Ticket.id == tid).values(**values))
    rows = {int(r[0]): dict(zip(HEADER, r, strict=True)) for r in parse(env.export(sort="id"))}
    for tid, text in zip(ids, texts, strict=True):
        expected = "'" + text if text in HIDDEN_TRIGGERS else text
        for column in ("title", "description", "assignee"):
            assert rows[tid][column] == expected, (column, text)


def test_neutralise_keeps_the_ascii_rules():
    from data.read.ticket_export import neutralise

    for trigger in TRIGGERS:
        assert neutralise(trigger + "x") == "'" + trigger + "x"
    for text in ("plain", "a=b", "'=quoted", "5 mm", "", None):
        assert neutralise(text) == text
    assert neutralise("\u200b" * 5000 + "=1") == "'" + "\u200b" * 5000 + "=1"


def test_empty_result_is_the_header_alone(env):
    assert env.export() == HEADER_LINE
    env.ticket()
    assert env.export(status="closed") == HEADER_LINE


# -- the HTTP response ----------------------------------------------------------------------


def test_response_headers_and_streaming(plant):
    response = plant.get("/tickets/export.csv", tz="Pacific/Auckland")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert response.mimetype_params.get("charset") == "utf-8"
    disposition = response.headers["Content-Disposition"]
    match = re.fullmatch(r'attachment; filename="tickets-(\d{4}-\d\d-\d\d)\.csv"', disposition)
    assert match, disposition
    today = {
        (datetime.now(UTC) + timedelta(minutes=m)).astimezone(ZoneInfo("Pacific/Auckland"))
        for m in (-1, 0, 1)
    }
    assert match.group(1) in {d.strftime("%Y-%m-%d") for d in today}
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_data().startswith(b"id,created_at,")


def test_bom(plant):
    body = plant.get("/tickets/export.csv", bom="1").get_data()
    assert body.startswith(b"\xef\xbb\xbfid,created_at,")
    assert body[3:] == plant.get("/tickets/export.csv").get_data()
    assert body.decode("utf-8-sig") == plant.export()


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({"status": "bogus"}, {"status"}),
        ({"priority": "urgent"}, {"priority"}),
        ({"tz": "Mars/Base"}, {"tz"}),
        ({"tz": "../../etc/passwd"}, {"tz"}),
        ({"created_from": "x"}, {"created_from"}),
        ({"created_to": "2026-13-01"}, {"created_to"}),
        ({"sort": "nope"}, {"sort"}),
        ({"machine_id": "0"}, {"machine_id"}),
        ({"machine_id": "one"}, {"machine_id"}),
        ({"bom": "maybe"}, {"bom"}),
        ({"colour": "red"}, {"colour"}),
        ({"status": "bogus", "tz": "Mars/Base", "sort": "nope"}, {"status", "tz", "sort"}),
    ],
)
def test_bad_filters_are_400_json(env, query, fields):
    response = env.get("/tickets/export.csv", **query)
    assert response.status_code == 400
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["details"]) == fields
    assert error["message"]


def test_needs_a_viewer(env):
    response = env.get("/tickets/export.csv", role=None)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    response = env.get("/tickets/export.csv", role="display")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert env.get("/tickets/export.csv", role="admin").status_code == 200


# -- the command line -----------------------------------------------------------------------


def run_cli(url: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    environ = {**os.environ, "MILLDASH_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "app", "export-tickets", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        timeout=120,
    )


def test_cli_writes_the_same_file_as_the_api(plant, tmp_path):
    out = tmp_path / "out" / "tickets.csv"
    out.parent.mkdir()
    flags = ["--status", "open,in_progress,resolved", "--sort=-priority"]
    flags += ["--tz", "Europe/Berlin", "--bom", "--created-from", "2026-03-02T10:00:00Z"]
    done = run_cli(plant.url, *flags, "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert b"Exporting" in done.stderr  # the progress bar, on stderr
    api = plant.get(
        "/tickets/export.csv",
        status="open,in_progress,resolved",
        sort="-priority",
        tz="Europe/Berlin",
        bom="1",
        created_from="2026-03-02T10:00:00Z",
    ).get_data()
    assert out.read_bytes() == api
    assert len(parse(api.decode("utf-8-sig"))) > 3
    assert [p.name for p in out.parent.iterdir()] == ["tickets.csv"]  # no .part left over


def test_cli_everything_to_stdout(plant):
    done = run_cli(plant.url)
    assert done.returncode == 0, done.stderr
    assert done.stdout == plant.get("/tickets/export.csv").get_data()


def test_cli_bad_filters_exit_2(env, tmp_path):
    out = tmp_path / "never.csv"
    done = run_cli(env.url, "--status", "bogus", "--tz", "Mars/Base", "-o", str(out))
    assert done.returncode == 2
    stderr = done.stderr.decode()
    assert "--status" in stderr and "bogus" in stderr
    assert "--tz" in stderr and "Mars/Base" in stderr
    assert not out.exists()
    done = run_cli(env.url, "--created-from", "x", "--sort", "nope", "-o", str(out))
    assert done.returncode == 2
    assert "--created-from" in done.stderr.decode() and "--sort" in done.stderr.decode()
    assert not out.exists()
