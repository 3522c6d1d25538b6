"""Several real Mill Dash processes behind a real nginx, sharing one database and one Redis,
for tests: `redis-server` and `nginx` run as subprocesses on free loopback ports, everything in
a temporary folder (deploy/nginx.conf is the nginx configuration, rewritten for that)."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import redis
import requests

from devtools.live_server import free_port
from devtools.processes import stop_process, wait_until_healthy

ROOT = Path(__file__).resolve().parent.parent
NGINX_TEMPLATE = ROOT / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
)
REDIS_SERVER = shutil.which("redis-server")


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not within {timeout:g} s")
        time.sleep(0.05)


class RedisServer:
    """`redis-server` on a free loopback port, without persistence."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        assert REDIS_SERVER is not None, "redis-server is not installed"
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)]
        with open(self.workdir / "redis.log", "ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        _wait(self._answers, 10, "redis-server start")
        return self

    def _answers(self) -> bool:
        probe = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        try:
            return bool(probe.ping())
        except redis.RedisError:
            return False
        finally:
            probe.close()

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, decode_responses=True)

    def stop(self) -> None:
        """Gone at once, like a crash."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None


def render_nginx_conf(template: str, listen_port: int, upstreams: list[int], workdir: Path) -> str:
    """deploy/nginx.conf for loopback: nginx on `listen_port`, one upstream server line per
    port, pid, logs and temp files in `workdir`, one worker (so round robin alternates
    strictly), and an `X-Upstream` header naming the process that answered (tests only)."""

    def sub(pattern: str, replacement: str, text: str) -> str:
        result, count = re.subn(pattern, lambda _m: replacement, text, flags=re.MULTILINE)
        if count != 1:
            raise ValueError(f"deploy/nginx.conf: expected one match of {pattern!r}, got {count}")
        return result

    servers = "\n".join(
        f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;" for port in upstreams
    )
    text, removed = re.subn(r"^[ \t]*server app\d+:\d+[^;]*;\n", "", template, flags=re.MULTILINE)
    if not removed:
        raise ValueError("deploy/nginx.conf: no upstream server lines (server appN:PORT ...;)")
    text = sub(r"^[ \t]*upstream milldash \{$", "    upstream milldash {\n" + servers, text)
    text = sub(r"^worker_processes .*;$", "worker_processes 1;", text)
    text = sub(r"^pid .*;$", f"pid {workdir / 'nginx.pid'};", text)
    text = sub(r"^error_log .*;$", f"error_log {workdir / 'error.log'} info;", text)
    access = f"    access_log {workdir / 'access.log'} upstreams;"
    text = sub(r"^[ \t]*access_log .*;$", access, text)
    text = re.sub(r"/tmp/nginx-([a-z-]+)", lambda m: str(workdir / m.group(1)), text)
    text = sub(r"^(\s*)listen 80;$", f"        listen 127.0.0.1:{listen_port};", text)
    text = sub(
        r"^(\s*)server_name _;$",
        "        server_name _;\n        add_header X-Upstream $upstream_addr always;",
        text,
    )
    text = sub(
        r"^http \{$",
        "http {\n    log_format upstreams '$request_method $uri $status $upstream_addr';",
        text,
    )
    if os.geteuid() == 0:  # workers would run as nobody, who cannot enter the temp folder
        text = f"user {pwd.getpwuid(0).pw_name};\n" + text
    return text


class Nginx:
    """nginx from deploy/nginx.conf in front of the given loopback ports."""

    def __init__(self, workdir: Path, upstreams: list[int]) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/api/v1/ws"
        self.conf = workdir / "nginx.conf"
        template = NGINX_TEMPLATE.read_text()
        self.conf.write_text(render_nginx_conf(template, self.port, upstreams, workdir))
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Nginx:
        assert NGINX is not None, "nginx is not installed"
        args = [NGINX, "-p", str(self.workdir), "-e", str(self.workdir / "error.log")]
        args += ["-c", str(self.conf), "-g", "daemon off;"]
        with open(self.workdir / "nginx.out", "ab") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        _wait(self._answers, 10, f"nginx start ({self.log()[-1000:]})")
        return self

    def _answers(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"nginx exited: {self.log()[-2000:]}")
        try:
            requests.get(f"{self.url}/api/v1/health", timeout=2)
            return True
        except requests.ConnectionError:
            return False

    def log(self) -> str:
        parts = [self.workdir / n for n in ("nginx.out", "error.log")]
        return "".join(p.read_text(errors="replace") for p in parts if p.exists())

    def access_lines(self) -> list[str]:
        path = self.workdir / "access.log"
        return path.read_text().splitlines() if path.exists() else []

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None


class AppProcess:
    """`python -m app --no-demo` on a free loopback port with the given database and env."""

    def __init__(self, workdir: Path, name: str, database_url: str, **env: str) -> None:
        self.name = name
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.address}"
        self.log_path = workdir / f"{name}.log"
        self.env = {
            **os.environ,
            "MILLDASH_DATABASE_URL": database_url,
            "MILLDASH_HOST": "127.0.0.1",
            "MILLDASH_PORT": str(self.port),
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> AppProcess:
        args = [sys.executable, "-m", "app", "--no-demo"]
        log = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the process's life
        self.proc = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=log)
        wait_until_healthy(f"{self.url}/api/v1/health", self.proc, timeout, self.log_path)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, like a crash or a power cut."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None
