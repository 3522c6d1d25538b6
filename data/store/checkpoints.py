"""SQLite WAL checkpoints off the request path.

In WAL mode a commit that finds 1,000 pages in the WAL copies them back into the database
file and syncs it: a checkpoint. That commit's request pays for it: with a ticket writing
about 13 pages, one POST in ~75 took 10-86 ms instead of 4 (and a ticket's alert reached every
screen that much later). A serving process therefore defers them
(`Database.defer_checkpoints`) and runs `passive_checkpoint` on its own connection, from a
thread that holds no lock the requests need (app/checkpointer.py). SQLite releases the GIL
while it copies and syncs.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

# Commits still checkpoint past this many WAL pages (~16 MB): only if the checkpointer
# stopped or cannot keep up (such a checkpoint costs about four of the usual ones).
SAFETY_NET_PAGES = 4_000


@dataclass(frozen=True)
class Checkpoint:
    """What one checkpoint found and did, in WAL frames (pages)."""

    busy: bool  # another checkpoint was running
    wal_frames: int  # frames in the WAL
    copied: int  # frames now in the database file (all of them unless a reader needs some)


def connect(path: Path) -> sqlite3.Connection:
    """A connection of the checkpointer's own, for the thread that opens it. The file must
    exist: a wrong path is an error, not a new empty database."""
    uri = f"file:{quote(str(path.resolve()))}?mode=rw"
    return sqlite3.connect(uri, uri=True, isolation_level=None, timeout=0)


def passive_checkpoint(conn: sqlite3.Connection) -> Checkpoint:
    """Copy what no reader still needs back into the database file, waiting for no one:
    writers go on appending meanwhile, and the next one starts the WAL over once every frame
    is copied."""
    busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return Checkpoint(busy=bool(busy), wal_frames=max(frames, 0), copied=max(copied, 0))
