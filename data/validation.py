"""Input models for the services: every field checked, one clear message per field."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from data.errors import ValidationFailed
from data.sqltypes import UTC_MAX, UTC_MIN, as_utc

# Ids are 32-bit INTEGER columns on PostgreSQL; larger numbers cannot name a row.
MAX_ID = 2**31 - 1

MachineStatus = Literal["running", "idle", "setup", "down", "maintenance", "offline"]
Priority = Literal["low", "medium", "high", "critical"]
TicketStatus = Literal["open", "in_progress", "on_hold", "resolved", "closed", "cancelled"]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class StatusReport(_Input):
    status: MachineStatus
    reason: str | None = Field(default=None, max_length=200)


class ProductionReport(_Input):
    machine_id: int = Field(strict=True, gt=0, le=MAX_ID)
    good: int = Field(strict=True, ge=0, le=1_000_000)
    scrap: int = Field(strict=True, ge=0, le=1_000_000)
    ts: datetime | None = None

    @field_validator("ts")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("must include a timezone, e.g. 2026-01-01T08:00:00Z")
        return in_range(value)


def in_range(value: datetime | None) -> datetime | None:
    """Reject times that cannot be converted to UTC (years 1 and 9999 at the edges)."""
    if value is None:
        return None
    try:
        utc = as_utc(value)
    except OverflowError:
        raise ValueError("is out of range") from None
    if not UTC_MIN <= utc <= UTC_MAX:
        raise ValueError("is out of range")
    return value


class TicketCreate(_Input):
    machine_id: int = Field(strict=True, gt=0, le=MAX_ID)
    title: str = Field(min_length=3, max_length=200)
    description: str = Field(default="", max_length=10_000)
    priority: Priority
    assignee: str | None = Field(default=None, max_length=120)


class TicketUpdate(_Input):
    status: TicketStatus | None = None
    assignee: str | None = Field(default=None, max_length=120)
    priority: Priority | None = None


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], payload: Any) -> M:
    """Validate `payload` into `model` or raise ValidationFailed with a message per field."""
    if not isinstance(payload, dict):
        raise ValidationFailed("The request body must be a JSON object.")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        details = {}
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]) or "body"
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown field"
            details.setdefault(name, msg)
        fields = ", ".join(sorted(details))
        raise ValidationFailed(f"Invalid input: {fields}.", details) from None
