"""Client -> server frames: parsed and validated here, so the socket loop stays thin."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from data.events import ALERT_LEVELS, ALL, TOPICS

VALID_TOPICS = (*TOPICS, ALL)
CLIENT_TYPES = ("subscribe", "unsubscribe", "ping", "status", "presence")
ADMIN_TYPES = ("broadcast", "stats")
MAX_TICKET_ID = 2**31 - 1  # the tickets table's integer key


@dataclass(frozen=True)
class ClientFrame:
    type: str
    topics: tuple[str, ...] = ()
    nonce: Any = None
    data: dict[str, Any] | None = None
    ticket_id: int | None = None


class FrameError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def frame(self) -> dict[str, str]:
        return {"type": "error", "code": self.code, "message": self.message}


def parse_topics(raw: Any) -> tuple[str, ...]:
    """A list (or comma string) of known topics; `all` stands for every topic."""
    if isinstance(raw, str):
        raw = [t for t in (p.strip() for p in raw.split(",")) if t]
    if not isinstance(raw, list) or not raw or not all(isinstance(t, str) for t in raw):
        raise FrameError("bad_topics", "'topics' must be a non-empty list of topic names.")
    unknown = sorted({t for t in raw if t not in VALID_TOPICS})
    if unknown:
        raise FrameError(
            "unknown_topic",
            f"Unknown topic(s): {', '.join(unknown)}; use {', '.join(VALID_TOPICS)}.",
        )
    return tuple(dict.fromkeys(raw))


def _no_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; echoing them would break the client's parser.
    raise ValueError(name)


def parse_frame(text: Any, admin: bool = False) -> ClientFrame:
    """Validate one client frame; raise FrameError with a code and a message."""
    if not isinstance(text, str):
        raise FrameError("bad_frame", "Send JSON text frames, not binary.")
    try:
        body = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise FrameError("bad_json", "The frame is not valid JSON.") from None
    if not isinstance(body, dict):
        raise FrameError("bad_frame", "A frame must be a JSON object with a 'type'.")
    kind = body.get("type")
    allowed = ADMIN_TYPES if admin else CLIENT_TYPES
    if not isinstance(kind, str) or kind not in allowed:
        raise FrameError(
            "unknown_type", f"Unknown frame type {kind!r}; use one of {', '.join(allowed)}."
        )
    if kind in ("subscribe", "unsubscribe"):
        return ClientFrame(kind, topics=parse_topics(body.get("topics")))
    if kind == "broadcast":
        return ClientFrame(kind, data=_broadcast_data(body))
    if kind == "presence":
        return ClientFrame(kind, ticket_id=_ticket_id(body))
    nonce = body.get("nonce")
    if nonce is not None and not isinstance(nonce, (str, int, float)):
        raise FrameError("bad_nonce", "'nonce' must be a string or a number.")
    return ClientFrame(kind, nonce=nonce)


def _ticket_id(body: dict[str, Any]) -> int | None:
    """The ticket a presence frame names: a positive id, or null for "none"."""
    if "ticket_id" not in body:
        raise FrameError("bad_ticket", "'ticket_id' is missing: a ticket id, or null.")
    value = body["ticket_id"]
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TICKET_ID:
        raise FrameError(
            "bad_ticket", "'ticket_id' must be a ticket id (a positive whole number) or null."
        )
    return value


def _broadcast_data(body: dict[str, Any]) -> dict[str, Any]:
    if body.get("event") != "system_alert":
        raise FrameError("bad_event", "Only 'system_alert' can be broadcast.")
    data = body.get("data")
    if not isinstance(data, dict):
        raise FrameError("bad_data", "'data' must be an object with 'message' and 'level'.")
    message, level = data.get("message"), data.get("level", "info")
    if not isinstance(message, str) or not 1 <= len(message.strip()) <= 500:
        raise FrameError("bad_data", "'data.message' must be text of 1 to 500 characters.")
    if level not in ALERT_LEVELS:
        raise FrameError("bad_data", f"'data.level' must be one of {', '.join(ALERT_LEVELS)}.")
    return {"message": message.strip(), "level": level}
