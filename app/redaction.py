"""One redaction for every log line the server writes: secrets in query strings and API tokens.

Werkzeug percent-decodes parameter names (and turns `+` into a space), so `?%74oken=T` is the
same `token` to the app as `?token=T`: the names are judged decoded, not as written.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any
from urllib.parse import unquote_plus

REDACTED = "[redacted]"
# A parameter whose decoded name contains one of these carries a secret.
SECRET_NAME_PARTS = ("token", "password", "secret")
# `name=` anywhere in a line: after `?`, `&`, a space, a quote or another value. The name is
# the run of characters before `=` that cannot end a query parameter.
_NAME_RE = re.compile(r"([^\s=&?;#\"'/\\<>()\[\]{},]+)=")
# A value runs to the next `&` (Werkzeug's separator), whitespace or a double quote (the access
# log quotes the request line). `'`, `?` and `=` stay inside: over-redacting is harmless.
_VALUE_RE = re.compile(r"[^\s&\"]*")
# API tokens wherever they appear (a Bearer header, a JSON body); the 10-character prefix the
# admin listing shows is shorter than this and stays readable.
_TOKEN_RE = re.compile(r"\bmdt_[A-Za-z0-9_\-]{16,}")


def secret_name(raw: str) -> bool:
    """Whether a query parameter name, as written on the wire, names a secret.

    Decoded up to three times: redacting a doubly encoded name as well costs nothing.
    """
    name = raw
    for _ in range(3):
        decoded = unquote_plus(name)
        if decoded == name:
            break
        name = decoded
    name = name.lower()
    return any(part in name for part in SECRET_NAME_PARTS)


def redact(text: str) -> str:
    """`text` with every secret query value and every API token replaced by `[redacted]`."""
    if "mdt_" in text:
        text = _TOKEN_RE.sub("mdt_" + REDACTED, text)
    if "=" not in text:
        return text
    spans: list[tuple[int, int]] = []
    for match in _NAME_RE.finditer(text):
        if secret_name(match.group(1)):
            value = _VALUE_RE.match(text, match.end())
            end = value.end() if value else match.end()
            if end > match.end():
                spans.append((match.end(), end))
    if not spans:
        return text
    parts: list[str] = []
    last = 0
    for start, end in spans:
        if start < last:  # already inside a redacted value
            continue
        parts.append(text[last:start])
        parts.append(REDACTED)
        last = end
    parts.append(text[last:])
    return "".join(parts)


class RedactingStream:
    """A file-like writer (gevent's access and error logs, its hub's tracebacks) that redacts
    each write before passing it on."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream if stream is not None else sys.stderr

    def write(self, text: str) -> int:
        self.stream.write(redact(text))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


class RedactingFilter(logging.Filter):
    """Put on a handler: the record's message (arguments merged in) and its traceback text are
    redacted before any formatter sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: let logging report it as usual
            return True
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Add the redacting filter to every handler of `logger` (default: the root logger).

    A filter on a handler, unlike one on a logger, also sees records that propagate up from
    child loggers (Flask's, Alembic's, ours)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
