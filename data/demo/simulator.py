"""Keeps the demo plant alive: small plausible changes every few seconds, made only through
the Services, so every change is in the event log and reaches the dashboards like real news.

The plant lives by its calendar as stored in the database (an admin may change it; the
simulator re-reads it when it was saved again, and at least once a minute). On each tick every
machine gets what the calendar asks at that moment (data/demo/shift_windows.py), at most one
tick late:

- at a shift's end (and for a plant-wide planned stop) machines go `offline` ("no shift", or
  the stop's reason); a machine that is `down` stays down until its repair is done, then goes
  offline too;
- at a shift's start they come back: `setup` ("shift start", a warm-up of WARM_UP_MINUTES on
  average), then `running`;
- in a break they are `idle` ("break") and run again when it ends; maintenance goes on through
  a break;
- a machine's own planned stop puts it in `maintenance` (the stop's reason), then warm-up;
- only in shift time do the random rates below apply, so breakdowns happen only in shifts.
"""

from __future__ import annotations

import logging
import math
import random
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.demo.calendar_moves import Asked, CalendarView, PlantMachine
from data.demo.machine_timeline import SHIFT_START
from data.demo.plant_catalog import BREAKDOWNS, IDLE_REASONS, PM_TASKS, TECHNICIANS
from data.read.calendar_queries import load_calendar
from data.store.db import Database
from data.store.models import Machine, PlantCalendar, StatusPeriod, Ticket
from data.write.services import Services

log = logging.getLogger(__name__)

ACTOR = "simulator"
UNFINISHED = ("open", "in_progress", "on_hold")

# The demo plant's rates in shift time, in line with its seeded history
# (data/demo/machine_timeline.py) and with a job shop that works: a machine runs about 100 min
# between stops, most stops are short (waiting for material or an operator, a changeover), and
# it breaks down about once in 80 running hours. In steady state about three machines in four
# run in shift time, a 24-machine plant sees a status change every few minutes and a breakdown
# every four hours or so, shift after shift.
MEAN_MINUTES = {"running": 100, "idle": 15, "setup": 35, "maintenance": 120, "offline": 60}
# Where a machine goes when it leaves a status, with weights (a breakdown is separate: below).
NEXT: dict[str, tuple[tuple[str, int], ...]] = {
    "running": (("idle", 55), ("setup", 40), ("maintenance", 5)),
    "idle": (("running", 80), ("setup", 20)),
    "setup": (("running", 1),),
    "maintenance": (("idle", 1),),
    "offline": (("idle", 1),),
}
MTBF_HOURS = 80.0  # running hours between two breakdowns of one machine (the seed: 40-120)
RESPOND_MINUTES = 15.0  # until a technician takes the ticket of a broken machine
REPAIR_MINUTES = 45.0  # from taking it to the machine running again (MTTR about an hour)
UNTICKETED_DOWN_MINUTES = 20.0  # a machine set down by hand, without a ticket
WARM_UP_MINUTES = 10.0  # the setup at a shift's start (the seed: 5-15 min)
CALENDAR_RELOAD_S = 60.0  # re-read the calendar at least this often, and whenever it is saved


def chance(seconds: float, mean_minutes: float) -> float:
    """The probability that something with this mean time happens within `seconds`
    (exponential waiting times: each tick is independent of how long the state has lasted)."""
    return 1.0 - math.exp(-max(0.0, seconds) / (mean_minutes * 60.0))


class Simulator:
    """One tick = production for running machines + for each machine, the changes its rates
    make likely in the time since the last tick.

    Production accumulates per machine (elapsed running time / ideal cycle time x a
    performance factor) and is reported once a machine has made whole parts and at most
    every `report_every_s`, so the event log is not flooded with tiny counts.
    """

    def __init__(
        self,
        services: Services,
        db: Database,
        *,
        interval_s: float = 3.0,
        rng_seed: int | None = None,
        report_every_s: float = 30.0,
        may_run: Callable[[], bool] | None = None,
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, got {interval_s!r}")
        self.services = services
        self.db = db
        self.interval_s = interval_s
        self.report_every_s = report_every_s
        self.rng = random.Random(rng_seed)
        self.clock = services.clock
        self._last_tick: datetime | None = None
        self._parts: dict[int, float] = {}  # made but not reported yet
        self._reported: dict[int, datetime] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._calendar: CalendarView | None = None
        # Asked before each tick (a cluster lock's `held`, app/cluster_lock.py): while it
        # says no, another process may be running the plant and this one does nothing.
        self.may_run = may_run

    # -- one tick ---------------------------------------------------------------------------

    def step(self) -> list[str]:
        """Do one tick; returns short descriptions of what changed."""
        now = self.clock()
        with self.db.read() as session:
            machines = self._machines(session)
            if not machines:
                return []
            view = self._read_calendar(session, now)
        if self._last_tick is None:  # first tick: nothing ran under our watch yet
            self._last_tick = now
            return []
        elapsed = (now - self._last_tick).total_seconds()
        asked = view.asks(now, [m.id for m in machines])
        scheduled = {
            m.id: move for m in machines if (move := view.follow(m, *asked[m.id])) is not None
        }
        changing = {
            m.id
            for m in machines
            if asked[m.id][0] is None and m.id not in scheduled and self._changes(m, elapsed)
        }
        done = self._produce(machines, self._last_tick, now, changing | set(scheduled))
        self._last_tick = now
        for m in machines:
            if m.status == "down":
                repaired = self._repair(m, elapsed)
                done += repaired
                if repaired and asked[m.id][0] is not None:  # repaired in time off: go home
                    done += self._follow_after_repair(view, m.id, asked[m.id])
            elif m.id in scheduled:
                done += self._set(m, *scheduled[m.id])
            elif m.id in changing:
                done += self._move(m)
        return done

    def _machines(self, session: Session, machine_id: int | None = None) -> list[PlantMachine]:
        """Each machine (or the one with `machine_id`) with its status and the reason of its
        current period."""
        periods = select(StatusPeriod.machine_id, StatusPeriod.reason).where(
            StatusPeriod.ended_at.is_(None)
        )
        machines = select(Machine.id, Machine.name, Machine.kind, Machine.status,
                          Machine.status_since, Machine.ideal_cycle_time_s)  # fmt: skip
        if machine_id is not None:
            periods = periods.where(StatusPeriod.machine_id == machine_id)
            machines = machines.where(Machine.id == machine_id)
        reasons = dict(session.execute(periods.order_by(StatusPeriod.id)).all())
        rows = session.execute(machines.order_by(Machine.id)).all()
        return [PlantMachine(*row, reason=reasons.get(row.id)) for row in rows]

    def _read_calendar(self, session: Session, now: datetime) -> CalendarView:
        """The stored calendar: read again when it was saved since, or CALENDAR_RELOAD_S after
        the last read (a few small queries)."""
        head = session.execute(
            select(PlantCalendar.timezone, PlantCalendar.edited_at).where(PlantCalendar.id == 1)
        ).first()
        stamp = tuple(head) if head is not None else None
        view = self._calendar
        if (
            view is None
            or view.stamp != stamp
            or not 0 <= (now - view.read_at).total_seconds() < CALENDAR_RELOAD_S
        ):
            view = self._calendar = CalendarView(load_calendar(session), stamp, now)
        return view

    def _follow_after_repair(self, view: CalendarView, machine_id: int, asked: Asked) -> list[str]:
        """A machine that was down and may be repaired now goes where the calendar asks."""
        with self.db.read() as session:
            (machine,) = self._machines(session, machine_id)
        move = view.follow(machine, *asked)
        return self._set(machine, *move) if move is not None else []

    def _set(self, m: Any, status: str, reason: str | None) -> list[str]:
        """What the calendar asks now (a shift's end or start, a break, a planned stop)."""
        self.services.report_status(m.id, {"status": status, "reason": reason}, actor=ACTOR)
        return [f"{m.name} {m.status} -> {status} ({reason or 'calendar'})"]

    def _changes(self, m: Any, elapsed: float) -> bool:
        """Whether a machine that is not down leaves its status in this tick."""
        if m.status == "down" or m.status not in MEAN_MINUTES:
            return False
        mean = WARM_UP_MINUTES if m.reason == SHIFT_START else MEAN_MINUTES[m.status]
        return self.rng.random() < chance(elapsed, mean) or (
            m.status == "running" and self.rng.random() < chance(elapsed, MTBF_HOURS * 60)
        )

    def _produce(
        self, machines: list[Any], since: datetime, now: datetime, flush_ids: set[int]
    ) -> list[str]:
        """Count parts made since the last tick; report whole parts when due (and always for
        a machine that changes status now, which may stop running)."""
        done: list[str] = []
        for m in machines:
            if m.status != "running":
                continue
            seconds = (now - max(since, m.status_since)).total_seconds()
            perf = self.rng.uniform(0.75, 0.98)
            parts = self._parts.get(m.id, 0.0) + max(0.0, seconds) / m.ideal_cycle_time_s * perf
            last = self._reported.get(m.id)
            due = last is None or (now - last).total_seconds() >= self.report_every_s
            if int(parts) < 1 or not (due or m.id in flush_ids):
                self._parts[m.id] = parts
                continue
            total = int(parts)
            self._parts[m.id] = parts - total
            expected_scrap = total * self.rng.uniform(0.005, 0.04)
            scrap = int(expected_scrap) + (self.rng.random() < expected_scrap % 1)
            self.services.record_production(
                {"machine_id": m.id, "good": total - scrap, "scrap": scrap}
            )
            self._reported[m.id] = now
            done.append(f"{m.name} made {total - scrap} good, {scrap} scrap")
        return done

    def _move(self, m: Any) -> list[str]:
        """A machine leaves its status: a breakdown (running machines only, at their MTBF
        rate), else the next status by the weights of NEXT."""
        breaks = MEAN_MINUTES["running"] / (MTBF_HOURS * 60)  # share of running's exits
        if m.status == "running" and self.rng.random() < breaks / (1 + breaks):
            return self._break_down(m)
        options = NEXT[m.status]
        new = self.rng.choices([o for o, _ in options], [w for _, w in options])[0]
        reason = {
            "running": None,
            "idle": self.rng.choice(IDLE_REASONS),
            "setup": "changeover",
            "maintenance": f"planned maintenance: {self.rng.choice(PM_TASKS)}",
        }[new]
        self.services.report_status(m.id, {"status": new, "reason": reason}, actor=ACTOR)
        return [f"{m.name} {m.status} -> {new}"]

    def _break_down(self, m: Any) -> list[str]:
        """The machine goes down and a ticket opens, linked to the new down period."""
        candidates = [b for b in BREAKDOWNS if m.kind in b.kinds] or list(BREAKDOWNS)
        bd = self.rng.choices(candidates, [b.weight for b in candidates])[0]
        self.services.report_status(m.id, {"status": "down", "reason": bd.reason}, actor=ACTOR)
        ticket = self.services.create_ticket(
            {
                "machine_id": m.id,
                "title": f"{bd.title} on {m.name}",
                "description": self.rng.choice(bd.descriptions),
                "priority": bd.priority,
            },
            actor=ACTOR,
        )
        return [f"{m.name} down ({bd.reason}); ticket #{ticket['id']} ({bd.priority}) opened"]

    def _repair(self, m: Any, elapsed: float) -> list[str]:
        """Work the ticket of a down machine: a technician takes it (RESPOND_MINUTES on
        average), then repairs the machine (REPAIR_MINUTES); resolving ends the down period and
        the machine becomes idle."""
        with self.db.read() as session:
            period_id = session.scalar(
                select(StatusPeriod.id).where(
                    StatusPeriod.machine_id == m.id, StatusPeriod.ended_at.is_(None)
                )
            )
            ticket = session.execute(
                select(Ticket.id, Ticket.status, Ticket.assignee)
                .where(Ticket.down_period_id == period_id, Ticket.status.in_(UNFINISHED))
                .order_by(Ticket.id)
            ).first()
        if ticket is None:  # set down by someone without a ticket: bring it back eventually
            if self.rng.random() >= chance(elapsed, UNTICKETED_DOWN_MINUTES):
                return []
            self.services.report_status(m.id, {"status": "idle", "reason": "repaired"}, ACTOR)
            return [f"{m.name} down -> idle (no ticket)"]
        if ticket.status != "in_progress":
            if self.rng.random() >= chance(elapsed, RESPOND_MINUTES):
                return []
            change = {"status": "in_progress"}
            if ticket.assignee is None:
                change["assignee"] = self.rng.choice(TECHNICIANS)
            self.services.update_ticket(ticket.id, change, ACTOR)
            return [f"ticket #{ticket.id} {ticket.status} -> in_progress ({m.name})"]
        if self.rng.random() >= chance(elapsed, REPAIR_MINUTES):
            return []
        self.services.update_ticket(ticket.id, {"status": "resolved"}, ACTOR)
        return [f"ticket #{ticket.id} resolved; {m.name} repaired"]

    # -- background thread ------------------------------------------------------------------

    def start(self) -> None:
        """Run step() every interval_s in a daemon thread (no-op if already running)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="milldash-simulator", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread; returns once it has finished (a running step completes first)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            if self.may_run is not None and not self.may_run():
                self._last_tick = None  # when it may again, it starts from then
                continue
            try:
                self.step()
            except Exception:  # a bad tick (e.g. a conflicting API change) must not stop it
                log.exception("simulator step failed")
