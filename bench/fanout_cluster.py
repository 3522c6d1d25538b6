"""Mill Dash as several processes for the fan-out bench (`--processes 2`).

- `--via direct`: `python -m app --no-demo --workers N --redis-url URL` on one port (gunicorn's
  gevent workers; the kernel hands each new connection to whichever worker accepts it).
- `--via nginx`: N separate `python -m app --no-demo` processes (devtools.cluster.AppProcess)
  behind nginx rendered from deploy/nginx.conf by devtools.cluster.Nginx (round robin, one
  nginx worker); the clients and the POSTs go through nginx.

Either way: one SQLite file migrated before any process starts, one secret key, and a
redis-server of the run's own on a free loopback port (devtools.cluster.RedisServer); all of
it stopped after the run. `pids` are the server processes (their RSS and CPU are summed),
`infra` nginx's and redis-server's, reported on their own.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from bench.fanout_servers import ROOT, children, metrics_env, ping_env
from bench.proc_stats import child_pids
from data.accounts.tokens import create_token
from data.store.db import Database
from devtools.cluster import NGINX, REDIS_SERVER, AppProcess, Nginx, RedisServer
from devtools.factories import add_machines
from devtools.live_server import free_port
from devtools.processes import stop_process, wait_until_healthy

SECRET = "fanout-bench-secret"
START_TIMEOUT_S = 90.0
STATS_TIMEOUT_S = 15.0  # direct mode: asking until every worker has answered once
VIAS = ("direct", "nginx")


def missing_binaries(processes: list[int], vias: list[str]) -> list[str]:
    """What a run of these variants needs and this machine lacks."""
    if max(processes) < 2:
        return []
    need = [("redis-server", REDIS_SERVER)] + ([("nginx", NGINX)] if "nginx" in vias else [])
    return [name for name, path in need if not path]


class ClusterServer:
    """What both ways share: database, tokens, Redis, and the per-process figures."""

    name = "mill-dash xN"
    processes = 2
    via = ""
    metrics = True

    def __init__(self, workdir: Path, n: int, ping_interval: float | None = None) -> None:
        self.workdir = workdir
        self.db_url = f"sqlite:///{workdir / 'milldash.db'}"
        db = Database(self.db_url)
        db.migrate()  # once, before any process starts (docs/deploy.md)
        self.machine_ids = add_machines(db, 4)
        tokens = {r: create_token(db, r, f"{r}-bench") for r in ("viewer", "operator", "admin")}
        db.dispose()
        self.token, self.admin_token = tokens["operator"], tokens["admin"]
        self.scrape_token = self.admin_token
        cap = str(n + 10)  # every bench socket shares one token and one address
        self.env = {
            "MILLDASH_SECRET_KEY": SECRET,
            "MILLDASH_WS_MAX_PER_USER": cap,
            "MILLDASH_WS_MAX_PER_ADDRESS": cap,
            **metrics_env(self.metrics),
            **ping_env(ping_interval),
        }
        self.redis = RedisServer(workdir)
        self.infra: dict[str, list[int]] = {}
        self.pids: list[int] = []  # every server process: RSS and CPU are summed over them
        self.holders: list[int] = []  # the processes that hold sockets
        self.port = 0
        try:
            self.redis.start()
            assert self.redis.proc is not None
            children.append(self.redis.proc)
            self.infra["redis-server"] = [self.redis.proc.pid]
            self._start()
        except BaseException:
            self.stop()
            raise
        viewer = tokens["viewer"]
        self.ws_url = f"ws://127.0.0.1:{self.port}/api/v1/ws?subscribe=maintenance&token={viewer}"

    @property
    def infra_pids(self) -> list[int]:
        return [pid for pids in self.infra.values() for pid in pids]

    @property
    def scrape_urls(self) -> list[str]:
        """Where Prometheus would scrape: the one port (any worker answers for all)."""
        return [f"http://127.0.0.1:{self.port}/metrics"]

    def _start(self) -> None:
        raise NotImplementedError

    def _stats(self, port: int) -> dict[str, Any]:
        """/api/v1/ws/stats of whichever process takes this new connection on `port`."""
        answer = requests.get(
            f"http://127.0.0.1:{port}/api/v1/ws/stats",
            headers={"Authorization": f"Bearer {self.admin_token}", "Connection": "close"},
            timeout=10,
        )
        answer.raise_for_status()
        return answer.json()

    def socket_counts(self) -> list[int]:
        """Open sockets per process of `holders`, in that order (-1: never answered)."""
        raise NotImplementedError

    def post_counts(self) -> list[int] | None:
        """POSTs of tickets per process of `holders`, where that can be told."""
        return None

    def stop(self) -> None:
        self.redis.stop()


class WorkersServer(ClusterServer):
    """`python -m app --no-demo --workers N --redis-url URL` on one port."""

    via = "direct"

    def _start(self) -> None:
        self.port = free_port()
        argv = [sys.executable, "-m", "app", "--no-demo", "--workers", str(self.processes)]
        argv += ["--redis-url", self.redis.url, "--port", str(self.port)]
        env = {**os.environ, **self.env, "MILLDASH_DATABASE_URL": self.db_url}
        env["MILLDASH_HOST"] = "127.0.0.1"
        self.log_path = self.workdir / "workers.log"
        with open(self.log_path, "ab") as log:
            self.master: subprocess.Popen[bytes] | None = subprocess.Popen(
                argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        children.append(self.master)
        health = f"http://127.0.0.1:{self.port}/api/v1/health"
        wait_until_healthy(health, self.master, START_TIMEOUT_S, self.log_path)
        deadline = time.monotonic() + START_TIMEOUT_S
        while len(self._serving()) < self.processes:  # each worker logs it once it serves
            if time.monotonic() > deadline or self.master.poll() is not None:
                raise RuntimeError(f"workers did not start: {self._log()[-2000:]}")
            time.sleep(0.1)
        self.holders = child_pids(self.master.pid)
        if sorted(self.holders) != sorted(self._serving()):
            raise RuntimeError(f"workers {self.holders} vs serving {self._serving()}")
        self.pids = [self.master.pid, *self.holders]

    def _log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _serving(self) -> list[int]:
        return [int(pid) for pid in re.findall(r"worker (\d+) serving", self._log())]

    def socket_counts(self) -> list[int]:
        """Ask on new connections until every worker has answered once: the kernel decides
        which worker takes each."""
        counts: dict[int, int] = {}
        deadline = time.monotonic() + STATS_TIMEOUT_S
        while set(counts) < set(self.holders) and time.monotonic() < deadline:
            stats = self._stats(self.port)
            counts[int(stats["pid"])] = int(stats["connections"])
            time.sleep(0.01)
        return [counts.get(pid, -1) for pid in self.holders]

    def stop(self) -> None:
        master = getattr(self, "master", None)
        if master is not None:
            stop_process(master, grace=20)
        super().stop()


class NginxCluster(ClusterServer):
    """N `python -m app --no-demo` processes behind nginx (deploy/nginx.conf)."""

    via = "nginx"

    def _start(self) -> None:
        env = {
            **self.env,
            "MILLDASH_REDIS_URL": self.redis.url,
            "MILLDASH_TRUSTED_PROXIES": "1",
            "MILLDASH_ALLOWED_HOSTS": "127.0.0.1,localhost",
        }
        self.apps = [
            AppProcess(self.workdir, f"app{i + 1}", self.db_url, **env)
            for i in range(self.processes)
        ]
        self.nginx: Nginx | None = None
        for app in self.apps:  # one after another, as docs/deploy.md says
            app.start(START_TIMEOUT_S)
            assert app.proc is not None
            children.append(app.proc)
            self.holders.append(app.proc.pid)
        self.pids = list(self.holders)
        self.nginx = Nginx(self.workdir, [app.port for app in self.apps]).start()
        assert self.nginx.proc is not None
        children.append(self.nginx.proc)
        self.infra["nginx"] = [self.nginx.proc.pid, *child_pids(self.nginx.proc.pid)]
        self.port = self.nginx.port

    @property
    def scrape_urls(self) -> list[str]:
        """Each process on its own port, as deploy/prometheus.yml scrapes them (not through
        nginx, which would reach one process at a time)."""
        return [f"http://127.0.0.1:{app.port}/metrics" for app in self.apps]

    def socket_counts(self) -> list[int]:
        """Each process's own stats, asked on its own port (not through nginx)."""
        return [int(self._stats(app.port)["connections"]) for app in self.apps]

    def post_counts(self) -> list[int] | None:
        """From nginx's access log: `POST /api/v1/tickets 201 127.0.0.1:PORT` per process."""
        assert self.nginx is not None
        lines = [line.split() for line in self.nginx.access_lines()]
        posts = [f[-1] for f in lines if f[:3] == ["POST", "/api/v1/tickets", "201"]]
        return [sum(1 for addr in posts if addr == app.address) for app in self.apps]

    def stop(self) -> None:
        nginx = getattr(self, "nginx", None)
        if nginx is not None:
            nginx.stop()
        for app in getattr(self, "apps", []):
            app.stop()
        super().stop()


def cluster_kind(processes: int, via: str) -> type[ClusterServer]:
    """The server class of one variant, e.g. `mill-dash x2 nginx`."""
    base = WorkersServer if via == "direct" else NginxCluster
    name = f"mill-dash x{processes} {via}"
    return type(f"{base.__name__}{processes}", (base,), {"processes": processes, "name": name})
