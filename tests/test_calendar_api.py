"""The calendar and analytics API (CONTRACT §2b) through the real app: what it stores, what it
refuses (422, nothing changed), who may do what, and the windows the reads use."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from app.config import Config
from app.factory import create_app
from data.accounts.tokens import create_token
from data.events import RecordingPublisher
from data.roles import ROLES
from data.store.models import Machine
from devtools.app_under_test import app_with_machines

WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# Three shifts around the clock, every day: whatever the time, one of them is running.
ROUND_THE_CLOCK = [
    {"name": "Early", "start": "06:00", "end": "14:00", "days": WEEK,
     "breaks": [{"start": "10:00", "end": "10:15"}]},
    {"name": "Late", "start": "14:00", "end": "22:00", "days": WEEK},
    {"name": "Night", "start": "22:00", "end": "06:00", "days": WEEK},
]  # fmt: skip


class Client:
    def __init__(self, app: Any, tokens: dict[str, str], publisher: RecordingPublisher) -> None:
        self.client = app.server.test_client()
        self.tokens = tokens
        self.publisher = publisher

    def call(self, method: str, path: str, role: str = "admin", **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[role]}", **kwargs.pop("headers", {})}
        return self.client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)


@pytest.fixture
def api(db_url: str) -> Any:
    publisher = RecordingPublisher()
    app, db = app_with_machines(db_url, 2, publisher, plant_tz="Europe/Berlin")
    with db.write() as session:  # the machines exist since January
        session.execute(update(Machine).values(created_at=datetime(2026, 1, 1, tzinfo=UTC)))
    tokens = {role: create_token(db, role, f"{role}-bot") for role in ROLES}
    yield Client(app, tokens, publisher)
    db.dispose()


def test_the_zone_defaults_to_the_configured_one(api: Client) -> None:
    answer = api.call("GET", "/calendar", "viewer")
    assert answer.status_code == 200
    assert answer.get_json() == {"timezone": "Europe/Berlin", "shifts": [], "planned_stops": []}


def test_put_stores_the_document_and_tells_every_screen(api: Client) -> None:
    doc = {
        "timezone": "America/Chicago",
        "shifts": ROUND_THE_CLOCK,
        "planned_stops": [
            {"start": "2026-12-24T00:00:00-06:00", "end": "2026-12-26T00:00:00-06:00",
             "reason": "Christmas", "machine_id": None},
            {"start": "2026-12-01T08:00:00Z", "end": "2026-12-01T12:00:00Z",
             "reason": "spindle service", "machine_id": 2},
        ],
    }  # fmt: skip
    before = len(api.publisher.events)
    answer = api.call("PUT", "/calendar", json=doc)
    assert answer.status_code == 200, answer.get_json()
    stored = api.call("GET", "/calendar", "viewer").get_json()
    assert stored == answer.get_json()
    assert stored["timezone"] == "America/Chicago"
    assert [s["name"] for s in stored["shifts"]] == ["Early", "Late", "Night"]
    assert stored["shifts"][0]["breaks"] == [{"start": "10:00", "end": "10:15"}]
    assert stored["planned_stops"][1]["start"] == "2026-12-24T06:00:00Z"  # stored as UTC
    events = api.publisher.events[before:]
    assert [(e.type, e.data["reason"]) for e in events] == [
        ("dashboard_refresh", "calendar_changed")
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"shifts": [{"name": "A", "start": "25:00", "end": "06:00", "days": ["mon"]}]},
         "shifts.0.start"),
        ({"shifts": [{"name": "A", "start": "06:00", "end": "14:00", "days": ["mon"]},
                     {"name": "B", "start": "13:00", "end": "20:00", "days": ["mon"]}]},
         "shifts"),
        # Monday's night runs into Tuesday's early shift.
        ({"shifts": [{"name": "N", "start": "22:00", "end": "06:00", "days": ["mon"]},
                     {"name": "E", "start": "05:00", "end": "13:00", "days": ["tue"]}]},
         "shifts"),
        ({"shifts": [{"name": "A", "start": "06:00", "end": "14:00", "days": ["mon"],
                      "breaks": [{"start": "15:00", "end": "15:30"}]}]}, "shifts.0"),
        ({"shifts": [{"name": "A", "start": "06:00", "end": "14:00", "days": ["someday"]}]},
         "shifts.0.days"),
        ({"planned_stops": [{"start": "2026-12-02T00:00:00Z", "end": "2026-12-01T00:00:00Z"}]},
         "planned_stops.0"),
        ({"planned_stops": [{"start": "2026-12-01T00:00:00", "end": "2026-12-02T00:00:00Z"}]},
         "planned_stops.0.start"),
        ({"planned_stops": [{"start": "2026-12-01T00:00:00Z", "end": "2026-12-02T00:00:00Z",
                             "machine_id": 99}]}, "planned_stops"),
    ],
)  # fmt: skip
def test_an_unusable_calendar_is_refused_and_changes_nothing(
    api: Client, change: dict[str, Any], field: str
) -> None:
    assert api.call("PUT", "/calendar", json={"shifts": ROUND_THE_CLOCK}).status_code == 200
    before = api.call("GET", "/calendar").get_json()
    events = len(api.publisher.events)
    answer = api.call("PUT", "/calendar", json={"timezone": "UTC", **change})
    assert answer.status_code == 422, answer.get_json()
    error = answer.get_json()["error"]
    assert field in error["details"], error
    assert "Value error" not in error["message"] and error["message"].endswith(".")
    assert api.call("GET", "/calendar").get_json() == before
    assert len(api.publisher.events) == events


def test_only_an_admin_may_change_the_calendar(api: Client) -> None:
    for role in ("viewer", "operator", "display"):
        assert api.call("PUT", "/calendar", role, json={}).status_code == 403
    assert api.call("GET", "/calendar", "display").status_code == 403
    assert api.client.get("/api/v1/calendar").status_code == 401
    assert (
        api.call("PUT", "/calendar", data="[1]", content_type="application/json").status_code == 400
    )


def test_reads_default_to_the_current_shift_and_stop_at_now(api: Client) -> None:
    assert api.call("PUT", "/calendar", json={"shifts": ROUND_THE_CLOCK}).status_code == 200
    now = datetime.now(UTC)
    for path in ("/dashboard/overview", "/kpis/machines", "/production/hourly",
                 "/machines/1/states"):  # fmt: skip
        body = api.call("GET", path, "viewer").get_json()
        start = datetime.fromisoformat(body["shift"]["start"].replace("Z", "+00:00"))
        assert body["from"] == body["shift"]["start"], path
        assert body["shift"]["name"] in ("Early", "Late", "Night")
        assert start <= now < datetime.fromisoformat(body["shift"]["end"].replace("Z", "+00:00"))
        assert body["timezone"] == "UTC"
    # A window that runs into the future is cut at now: hours that have not happened count 0.
    lo = (now - timedelta(hours=1)).isoformat()
    hi = (now + timedelta(hours=5)).isoformat()
    body = api.call("GET", "/kpis/machines", "viewer", query_string={"from": lo, "to": hi})
    items = body.get_json()["items"]
    to = datetime.fromisoformat(body.get_json()["to"].replace("Z", "+00:00"))
    assert abs((to - now).total_seconds()) < 30
    assert all(i["planned_s"] <= 3600 + 30 for i in items)
    future = (now + timedelta(hours=1)).isoformat()
    answer = api.call("GET", "/kpis/machines", "viewer", query_string={"from": future})
    assert answer.status_code == 400


def test_kpis_machines_and_hourly_shapes(api: Client) -> None:
    berlin = {"timezone": "Europe/Berlin", "shifts": ROUND_THE_CLOCK}
    assert api.call("PUT", "/calendar", json=berlin).status_code == 200
    query = {"from": "2026-11-30T00:00:00+01:00", "to": "2026-12-01T00:00:00+01:00"}
    kpis = api.call("GET", "/kpis/machines", "viewer", query_string=query).get_json()
    assert [i["machine_id"] for i in kpis["items"]] == [1, 2]
    assert set(kpis["items"][0]) == {
        "machine_id", "name", "area", "planned_s", "running_s", "availability", "performance",
        "quality", "oee", "teep", "good", "scrap", "mttr_s", "mtbf_s",
    }  # fmt: skip
    hourly = api.call("GET", "/production/hourly", "viewer", query_string=query).get_json()
    assert len(hourly["items"]) == 24
    assert hourly["items"][0]["hour"] == "2026-11-30T00:00:00+01:00"  # plant-local offset
    assert api.call("GET", "/production/hourly", "viewer",
                    query_string={**query, "machine_id": 99}).status_code == 404  # fmt: skip
    assert api.call("GET", "/machines/99/states", "viewer").status_code == 404


def test_the_shift_report_as_json_and_csv(api: Client) -> None:
    berlin = {"timezone": "Europe/Berlin", "shifts": ROUND_THE_CLOCK}
    assert api.call("PUT", "/calendar", json=berlin).status_code == 200
    body = api.call("GET", "/shifts/report", "viewer", query_string={"date": "2026-11-30"})
    doc = body.get_json()
    assert doc["date"] == "2026-11-30" and doc["timezone"] == "Europe/Berlin"
    assert [r["shift"] for r in doc["items"]] == ["Early", "Late", "Night"]
    assert doc["items"][2]["start"] == "2026-11-30T21:00:00Z"  # 22:00 in Berlin
    assert doc["items"][0]["planned_s"] == 2 * (8 * 3600 - 15 * 60)
    for answer in (
        api.call("GET", "/shifts/report.csv", "viewer", query_string={"date": "2026-11-30"}),
        api.call("GET", "/shifts/report", "viewer", query_string={"date": "2026-11-30"},
                 headers={"Accept": "text/csv"}),
    ):  # fmt: skip
        assert answer.status_code == 200 and answer.mimetype == "text/csv"
        assert "shift-report-2026-11-30.csv" in answer.headers["Content-Disposition"]
        rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
        assert [r["shift"] for r in rows] == ["Early", "Late", "Night"]
        assert rows[2]["start"] == "2026-11-30T22:00:00+01:00"  # plant-local in the file
    bad = api.call("GET", "/shifts/report", "viewer", query_string={"date": "30.11.2026"})
    assert bad.status_code == 400


def test_a_bad_configured_zone_is_refused_at_start(tmp_path: Any) -> None:
    from app.cli import main

    db = f"sqlite:///{tmp_path / 'z.db'}"
    import os

    os.environ["MILLDASH_PLANT_TZ"] = "Nowhere/Special"
    try:
        assert main(["--database-url", db]) == 2
    finally:
        del os.environ["MILLDASH_PLANT_TZ"]
    app = create_app(Config(database_url=db, demo=False, secret_key="t", plant_tz="Asia/Tokyo"))
    with app.server.extensions["milldash"].db.read() as session:
        from data.read.calendar_queries import load_calendar

        assert load_calendar(session).document.timezone == "Asia/Tokyo"
