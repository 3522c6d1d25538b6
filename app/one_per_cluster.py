"""Run a job in whichever process of the cluster holds its lock (app/cluster_lock.py)."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

from app.cluster_lock import ClusterLock

log = logging.getLogger(__name__)


class OnePerCluster:
    """Runs a job in this process while it holds `lock`: tries to take the lock every ttl/3,
    renews it while holding, and stops the job as soon as a renewal fails."""

    def __init__(
        self,
        lock: ClusterLock,
        name: str,
        start_job: Callable[[], None],
        stop_job: Callable[[], None],
    ) -> None:
        self.lock = lock
        self.name = name
        self.every_s = lock.ttl_s / 3
        self._start_job = start_job
        self._stop_job = stop_job
        self.holding = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"lock-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the job and let go of the lock (another process takes over at once)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self.holding:
            self._let_go()

    def step(self) -> None:
        """Take or renew the lock, and start or stop the job accordingly."""
        if self.holding:
            if not self.lock.renew():
                log.warning("%s: lost the lock (%s); stopped here", self.name, self.lock.describe())
                self._let_go()
            return
        if self.lock.acquire():
            self.holding = True
            log.info(
                "%s runs in this process (pid %s; %s)",
                self.name,
                os.getpid(),
                self.lock.describe(),
            )
            self._start_job()

    def _let_go(self) -> None:
        self.holding = False
        try:
            self._stop_job()
        finally:
            self.lock.release()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:  # the loop must outlive a failed step; the job checks held()
                log.exception("%s: lock step failed", self.name)
            self._stop.wait(self.every_s)
