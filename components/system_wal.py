"""The System page's line on SQLite's WAL checkpoints (id `system-wal`): whether the answering
process's checkpoint thread runs, when it last copied the log back into the database file,
and its error when one failed. Pure layout: the values come in a `WalCheckpoints`."""

from __future__ import annotations

from datetime import datetime

from dash import html

from components.wording import duration
from data.system_report import WalCheckpoints

NAME = "WAL checkpoints"
STOPPED = (
    "The checkpoint thread has stopped: commits copy the log back themselves once it passes "
    "{pages:,} pages."
)


def wal_state(wal: WalCheckpoints) -> str:
    """One word for the state: stopped (no thread), failed (its last attempt), waiting (none
    taken yet) or ok."""
    if not wal.running:
        return "stopped"
    if wal.error:
        return "failed"
    return "ok" if wal.runs else "waiting"


def last_run(wal: WalCheckpoints, now: datetime) -> str:
    """The last checkpoint that ran: when, and how much of the log it copied back."""
    if wal.last_at is None:
        return "None has run yet."
    when = duration((now - wal.last_at).total_seconds())
    pages = f"{wal.copied:,} of {wal.wal_pages:,} pages copied back"
    if wal.copied < wal.wal_pages:
        pages += " (a reader still needs the rest)"
    text = f"Last checkpoint {when} ago: {pages}; {wal.runs:,} since the process started"
    if wal.skipped:
        text += f", {wal.skipped:,} left to another process's checkpoint"
    return text + "."


def wal_detail(wal: WalCheckpoints, now: datetime) -> list[html.Div]:
    state = wal_state(wal)
    error = html.Div(wal.error, className="system-part-error", id="system-wal-error")
    if state == "stopped":
        stopped = STOPPED.format(pages=wal.safety_net_pages)
        return [html.Div(stopped, className="system-part-error"), *([error] if wal.error else [])]
    if state == "failed":
        return [error, html.Div(last_run(wal, now), className="muted small")]
    if state == "waiting":
        text = f"None yet: the first within {wal.every_s:g} s."
        if wal.skipped:
            text = f"None taken here: {wal.skipped:,} left to another process's checkpoint."
        return [html.Div(text, className="muted small")]
    return [html.Div(f"{last_run(wal, now)} Every {wal.every_s:g} s.", className="muted small")]


def wal_row(wal: WalCheckpoints, now: datetime) -> html.Div:
    """The line under the database: its state as a coloured word, then what the thread did."""
    state = wal_state(wal)
    css = "ok" if state in ("ok", "waiting") else "failed"
    return html.Div(
        [
            html.Span(NAME, className="system-part-name"),
            html.Span(state, className=f"system-state state-{css}"),
            html.Div(wal_detail(wal, now), className="system-wal-detail"),
        ],
        className="system-part",
        id="system-wal",
        **{"data-state": state, "data-runs": str(wal.runs)},
    )
