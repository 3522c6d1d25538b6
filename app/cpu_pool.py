"""CPU-bound work (Argon2 password checks) off gevent's event loop, a few at a time.

Under gevent every request and socket shares one OS thread: a 0.2 s Argon2 check run there
stalls them all (8 clients posting wrong passwords pushed /api/v1/health to 4.6 s). Here such
work runs on a small pool of real threads (argon2-cffi releases the GIL), while the calling
greenlet waits cooperatively. Those threads, and the lane threads Argon2 starts from them, run
on part of the machine's cores only (`pool_cpus`), so that one core at least always stays for
the event loop. A semaphore bounds how many checks run at once, so a flood
cannot take every core from the event loop, and a bound on how many callers may wait turns
a pile-up into a quick "busy" answer. Without gevent (Flask's test client, a CLI) the work
runs in the calling thread under the same bounds.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from data.errors import ServiceError

T = TypeVar("T")
# Pool threads run at a lower priority than the event loop's thread, so that answering
# requests wins when both want a core (Linux applies nice per thread).
POOL_NICENESS = 19
# A lower priority alone does not keep the event loop's latency: Argon2 starts four fresh lane
# threads per segment (48 per check), and Linux's scheduler let them run for up to a tick
# (4 ms) on both cores while the event loop's thread waited to run. Measured with
# `perf sched timehist` on 2 cores during bench.login_flood, main-thread waits over 1 ms in
# 6 s: 150 (386 ms, lanes on the CPUs for 522 ms of it) before, 47 (lanes: 92 ms) with the
# pool kept to one core.


class Busy(ServiceError):
    """Too many callers are already waiting for a CPU slot; try again shortly."""

    code = "busy"
    http_status = 503


def under_gevent() -> bool:
    """True when gevent has patched this process (the server), False in plain threads."""
    try:
        from gevent import monkey
    except ImportError:
        return False
    return bool(monkey.is_module_patched("threading"))


def pool_cpus(available: set[int]) -> set[int]:
    """The CPUs for password work: the upper half of `available` (the larger half when odd),
    all of them on a single core. The rest are left to the event loop."""
    cpus = sorted(available)
    return set(cpus[len(cpus) // 2 :]) if len(cpus) > 1 else set(cpus)


def _lower_priority() -> None:
    """Called on the pool thread itself: a lower priority, and only `pool_cpus` of the
    process's CPUs (threads that Argon2 starts from here inherit both)."""
    thread = threading.get_native_id()
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, thread, POOL_NICENESS)
    with contextlib.suppress(OSError, AttributeError):
        # The process's own set (its main thread's), not this thread's: this runs per task.
        os.sched_setaffinity(thread, pool_cpus(os.sched_getaffinity(os.getpid())))


class CpuPool:
    """Runs `fn(*args)` with at most `limit` at once and at most `max_waiting` callers queued."""

    def __init__(self, limit: int = 1, max_waiting: int = 16) -> None:
        self.limit = max(1, limit)
        self.max_waiting = max(0, max_waiting)
        self._slots: Any = None
        self._pool: Any = None
        self._gevent = False
        self._count_lock = threading.Lock()
        self._waiting = 0
        self.running = 0

    def _setup(self) -> None:
        # Decided at first use, not at import: the server patches before importing the app,
        # but tests import it unpatched; the pool's threads must start after any fork.
        if self._slots is not None:
            return
        self._gevent = under_gevent()
        if self._gevent:
            from gevent.lock import BoundedSemaphore
            from gevent.threadpool import ThreadPool

            self._slots = BoundedSemaphore(self.limit)
            self._pool = ThreadPool(self.limit)
        else:
            self._slots = threading.BoundedSemaphore(self.limit)

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` on a pool thread (under gevent) or here; raises Busy when the queue is
        full."""
        self._setup()
        if not self._slots.acquire(blocking=False):
            with self._count_lock:
                if self._waiting >= self.max_waiting:
                    raise Busy("The server is busy checking other passwords; try again.")
                self._waiting += 1
            try:
                self._slots.acquire()
            finally:
                with self._count_lock:
                    self._waiting -= 1
        with self._count_lock:
            self.running += 1
        try:
            if self._gevent:
                return self._pool.spawn(_niced, fn, args).get()
            return fn(*args)
        finally:
            with self._count_lock:
                self.running -= 1
            self._slots.release()

    @property
    def waiting(self) -> int:
        return self._waiting


def _niced(fn: Callable[..., T], args: tuple[Any, ...]) -> T:
    _lower_priority()
    return fn(*args)


def default_limit() -> int:
    """One check per two cores: one Argon2 check keeps ~1.3 cores busy when it may (it hashes
    with four lanes in parallel), and the event loop needs the rest (see `pool_cpus`)."""
    return max(1, (os.cpu_count() or 1) // 2)


def password_pool() -> CpuPool:
    """This app's pool for Argon2 work (created when the sign-in routes are registered)."""
    from app.context import ctx

    return ctx().extras["password_pool"]


def hash_off_loop(password: str) -> str:
    """`data.accounts.users.hash_password` through this app's pool."""
    from data.accounts.users import hash_password

    return password_pool().run(hash_password, password)


def verify_off_loop(stored_hash: str, password: str) -> bool:
    """`data.accounts.users.verify_password` through this app's pool."""
    from data.accounts.users import verify_password

    return password_pool().run(verify_password, stored_hash, password)
