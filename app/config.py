"""Server configuration: every option is a CLI flag and an environment variable."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DB = f"sqlite:///{Path('instance') / 'milldash.db'}"


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() not in ("0", "false", "no", "off")


LOG_FORMATS = ("text", "json")


def log_format_error(value: str) -> str | None:
    """One line saying why `value` is no log format, or None."""
    if value in LOG_FORMATS:
        return None
    return f"error: --log-format/MILLDASH_LOG_FORMAT must be text or json, not {value!r}"


@dataclass
class Config:
    host: str = "127.0.0.1"
    port: int = 8050
    database_url: str = DEFAULT_DB
    redis_url: str | None = None
    allowed_origins: list[str] = field(default_factory=list)
    # Host headers served; empty: the bind address, localhost and 127.0.0.1 (CONTRACT §1).
    allowed_hosts: list[str] = field(default_factory=list)
    # Cookies get `Secure` and answers HSTS: always, or when a trusted proxy says HTTPS.
    secure_cookies: bool = False
    # How many reverse proxies in front may be believed about X-Forwarded-For/-Proto.
    trusted_proxies: int = 0
    # Every request in the log; off: errors, slow requests and sign-ins only.
    access_log: bool = False
    # "text" for people, "json" for one JSON object per line (app/log_format.py).
    log_format: str = "text"
    # Prometheus metrics (docs/metrics.md); off: /metrics answers 404 and nothing is counted.
    metrics: bool = True
    # Growing delays after failed sign-ins (docs/security.md); off only to benchmark Argon2.
    login_throttle: bool = True
    # Password checks (Argon2) running at once; 0: one per two cores.
    password_checks: int = 0
    secret_key: str = ""
    demo: bool = True
    # The plant's IANA time zone until an admin picks one in the calendar (CONTRACT §2b).
    plant_tz: str = "UTC"
    anonymous_view: bool | None = None  # None: on exactly when the demo runs
    simulator_interval_s: float = 3.0
    # Realtime limits (CONTRACT §3)
    ws_ping_interval_s: float = 25.0
    ws_max_message_bytes: int = 64 * 1024
    ws_queue_max_frames: int = 1000
    ws_queue_max_bytes: int = 1024 * 1024
    ws_max_per_user: int = 20
    ws_max_per_address: int = 200
    retain_events: int = 10_000
    retain_hours: float = 24.0

    @property
    def anonymous_read(self) -> bool:
        return self.demo if self.anonymous_view is None else self.anonymous_view

    @classmethod
    def from_env(cls) -> Config:
        """Defaults overridden by MILLDASH_* environment variables."""
        env = os.environ
        anon = env.get("MILLDASH_ANONYMOUS_VIEW")
        origins = env.get("MILLDASH_ALLOWED_ORIGINS", "")
        hosts = env.get("MILLDASH_ALLOWED_HOSTS", "")
        return cls(
            host=env.get("MILLDASH_HOST", "127.0.0.1"),
            port=int(env.get("MILLDASH_PORT", "8050")),
            database_url=env.get("MILLDASH_DATABASE_URL") or DEFAULT_DB,
            redis_url=env.get("MILLDASH_REDIS_URL") or None,
            allowed_origins=[o.strip() for o in origins.split(",") if o.strip()],
            allowed_hosts=[h.strip().lower() for h in hosts.split(",") if h.strip()],
            secure_cookies=_env_bool("MILLDASH_SECURE_COOKIES", False),
            trusted_proxies=int(env.get("MILLDASH_TRUSTED_PROXIES", "0")),
            access_log=_env_bool("MILLDASH_ACCESS_LOG", False),
            log_format=env.get("MILLDASH_LOG_FORMAT", "").strip().lower() or "text",
            metrics=_env_bool("MILLDASH_METRICS", True),
            login_throttle=_env_bool("MILLDASH_LOGIN_THROTTLE", True),
            password_checks=int(env.get("MILLDASH_PASSWORD_CHECKS", "0")),
            secret_key=env.get("MILLDASH_SECRET_KEY", ""),
            demo=_env_bool("MILLDASH_DEMO", True),
            plant_tz=env.get("MILLDASH_PLANT_TZ", "").strip() or "UTC",
            ws_ping_interval_s=float(env.get("MILLDASH_WS_PING_INTERVAL", "25")),
            ws_queue_max_frames=int(env.get("MILLDASH_WS_QUEUE_FRAMES", "1000")),
            ws_queue_max_bytes=int(env.get("MILLDASH_WS_QUEUE_BYTES", str(1024 * 1024))),
            ws_max_per_user=int(env.get("MILLDASH_WS_MAX_PER_USER", "20")),
            ws_max_per_address=int(env.get("MILLDASH_WS_MAX_PER_ADDRESS", "200")),
            retain_events=int(env.get("MILLDASH_RETAIN_EVENTS", "10000")),
            retain_hours=float(env.get("MILLDASH_RETAIN_HOURS", "24")),
            anonymous_view=None
            if anon in (None, "")
            else _env_bool("MILLDASH_ANONYMOUS_VIEW", False),
        )

    def hosts(self) -> list[str]:
        """Host names (no port) this server answers to; `*` allows any."""
        if self.allowed_hosts:
            return self.allowed_hosts
        return sorted({self.host.lower(), "localhost", "127.0.0.1", "::1"})

    def resolved_secret_key(self) -> str:
        """The configured key, else one kept in `instance/secret_key` (created on first start)
        so that sessions, a wall's above all, survive a restart."""
        if self.secret_key:
            return self.secret_key
        path = Path("instance") / "secret_key"
        try:
            if path.exists():
                self.secret_key = path.read_text().strip()
            if not self.secret_key:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(secrets.token_hex(32))
                path.chmod(0o600)
                self.secret_key = path.read_text().strip()
        except OSError:
            self.secret_key = secrets.token_hex(32)  # read-only disk: sessions end on restart
        return self.secret_key
