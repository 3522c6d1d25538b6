"""Input models for the services: every field checked, one clear message per field."""

from __future__ import annotations

import typing
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from data.errors import ValidationFailed
from data.store.sqltypes import UTC_MAX, UTC_MIN, as_utc
from data.vocabulary import MACHINE_STATUSES, TICKET_PRIORITIES, TICKET_STATUSES

# Ids are 32-bit INTEGER columns on PostgreSQL; larger numbers cannot name a row.
MAX_ID = 2**31 - 1
MAX_COUNT = 1_000_000

# Built from the model's tuples so that the API, the database and the OpenAPI document
# (generated from these models) name the same values.
MachineStatus = Literal[MACHINE_STATUSES]  # type: ignore[valid-type]
Priority = Literal[TICKET_PRIORITIES]  # type: ignore[valid-type]
TicketStatus = Literal[TICKET_STATUSES]  # type: ignore[valid-type]


def _whole_number(value: Any) -> Any:
    """JSON Schema counts 3.0 as an integer, so a client generated from the OpenAPI document
    may send it: accept a float without a fraction as that integer (strings and booleans stay
    refused by the strict integer check that follows)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# An integer of a JSON body: strict (no "3", no true), but 3.0 is 3.
JsonInt = Annotated[int, BeforeValidator(_whole_number)]


def _is_number(value: Any) -> bool:
    """A number, or text that reads as one (pydantic would take either as a Unix time)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return False
        return True
    return False


def _is_time_field(annotation: Any) -> bool:
    return annotation is datetime or datetime in typing.get_args(annotation)


NUL_IN_NAME = "{what} must not contain the NUL character (U+0000)."


def refuse_nul(value: Any) -> Any:
    """`value`, unless it is text with U+0000: PostgreSQL cannot store it, and no person
    types it (a ValueError, which the models report as bad input)."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("must not contain the NUL character (U+0000)")
    return value


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _iso_times_only(cls, value: Any, info: ValidationInfo) -> Any:
        """Every time is ISO 8601 text, as the OpenAPI document says (format date-time).

        Pydantic would also read a number (12.5, or the text "0.5" of a query string) as
        seconds since 1970; a client that sends one has made a mistake, so it gets a 400."""
        field = cls.model_fields.get(info.field_name or "")
        if field is not None and _is_time_field(field.annotation) and _is_number(value):
            raise ValueError("must be an ISO 8601 date-time, e.g. 2026-01-01T08:00:00Z")
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return refuse_nul(value)


class StatusReport(_Input):
    status: MachineStatus
    reason: str | None = Field(default=None, max_length=200)


class ProductionReport(_Input):
    machine_id: JsonInt = Field(strict=True, gt=0, le=MAX_ID)
    good: JsonInt = Field(strict=True, ge=0, le=MAX_COUNT)
    scrap: JsonInt = Field(strict=True, ge=0, le=MAX_COUNT)
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
    machine_id: JsonInt = Field(strict=True, gt=0, le=MAX_ID)
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


def _wants_value(annotation: Any) -> bool:
    """A number or a time field: one that has no meaningful empty value."""
    types = {annotation, *typing.get_args(annotation)}
    return bool(types & {int, datetime})


def reject_blank_args(args: Mapping[str, str], model: type[BaseModel]) -> None:
    """Raise ValidationFailed for a query argument given empty (`created_to=`) where `model`
    wants a number or a time. Absent means "use the default"; empty is not a value of the
    type the OpenAPI document names (integer, date-time), so it is a 400 rather than being
    read as absent: a client that sends one has lost its value on the way."""
    details = {
        name: "is empty; leave it out or give a value"
        for name, raw in args.items()
        if raw == ""
        and name in model.model_fields
        and _wants_value(model.model_fields[name].annotation)
    }
    if details:
        raise ValidationFailed(f"Invalid input: {', '.join(sorted(details))}.", details)
