"""The serving process's checkpointer: SQLite WAL checkpoints on a thread of their own
(data/store/checkpoints.py says why), every `interval_s`.

Under gevent it is a real OS thread: a checkpoint in a greenlet would stall every request and
socket while it copies and syncs. The thread's own code touches nothing gevent patched (no
lock, no logging, no metric): after each attempt it replaces one immutable `Progress` (one
assignment, so a reader never mixes two attempts), and `running` says whether it is alive;
the serving thread may read both at any time (the System page shows them). Each serving
process (each worker) runs one; a checkpoint that finds another process's running is skipped,
and counted as such.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from app.cpu_pool import under_gevent
from data.store.checkpoints import Checkpoint, connect, passive_checkpoint
from data.store.db import Database

# Each wake of the thread takes the GIL from the serving thread, which then waits for it:
# few and far between. At 10 tickets a second a checkpoint copies ~650 pages.
DEFAULT_INTERVAL_S = 5.0


@dataclass(frozen=True)
class Progress:
    """What the thread has done so far, replaced whole after each attempt."""

    runs: int = 0  # checkpoints taken
    skipped: int = 0  # attempts that found another process's checkpoint running
    last: Checkpoint | None = None  # the last one taken
    last_at: float | None = None  # its time.time()
    last_error: str = ""  # the last attempt's error; "" once one succeeds again


class Checkpointer:
    def __init__(self, db: Database, interval_s: float = DEFAULT_INTERVAL_S) -> None:
        self.db = db
        self.interval_s = interval_s
        self.progress = Progress()
        self._stopped = False
        self.running = False  # the thread is alive (it clears this as it ends)

    @property
    def runs(self) -> int:
        return self.progress.runs

    @property
    def last_error(self) -> str:
        return self.progress.last_error

    def start(self) -> bool:
        """Defer the commits' checkpoints and start the thread; False (nothing started) when
        one runs already or the database is no SQLite file. Call it in the process that
        serves."""
        path = self.db.sqlite_file
        if self.running or path is None or not self.db.defer_checkpoints():
            return False
        self._stopped = False
        self.running = True
        if under_gevent():
            from gevent import monkey

            start_new_thread = monkey.get_original("_thread", "start_new_thread")
            sleep = monkey.get_original("time", "sleep")
            start_new_thread(self._run, (path, sleep))
        else:
            threading.Thread(target=self._run, args=(path, time.sleep), daemon=True).start()
        return True

    def stop(self) -> None:
        """The thread ends after its current sleep (and checkpoint, when one is running)."""
        self._stopped = True

    def _run(self, path: Path, sleep: Callable[[float], None]) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while not self._stopped:
                conn = conn or self._connect(path)
                if conn is not None:
                    self.checkpoint(conn)
                sleep(self.interval_s)
        finally:
            if conn is not None:
                conn.close()
            self.running = False

    def _connect(self, path: Path) -> sqlite3.Connection | None:
        try:
            return connect(path)
        except sqlite3.Error as exc:  # the file went away: try again at the next interval
            self.progress = replace(self.progress, last_error=str(exc))
            return None

    def checkpoint(self, conn: sqlite3.Connection) -> None:
        done = self.progress
        try:
            taken = passive_checkpoint(conn)
        except sqlite3.Error as exc:  # a full disk, a file that went away
            self.progress = replace(done, last_error=str(exc))
            return
        if taken.busy:  # another process's checkpoint was running: it does the work
            self.progress = replace(done, skipped=done.skipped + 1, last_error="")
            return
        self.progress = Progress(done.runs + 1, done.skipped, taken, time.time())


def start_checkpointer(app_ctx: Any) -> Checkpointer | None:
    """Start the serving process's checkpointer, kept in `extras["checkpointer"]` (the System
    page reads it); None, and nothing kept, without a SQLite file."""
    checkpointer = Checkpointer(app_ctx.db)
    if not checkpointer.start():
        return None
    app_ctx.extras["checkpointer"] = checkpointer
    return checkpointer
