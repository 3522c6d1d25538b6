"""Cross-site protection, sign-in gate for the UI, role checks on Dash callbacks, headers."""

from __future__ import annotations

import json
import re
from html import escape
from typing import Any
from urllib.parse import quote, urlsplit

import dash
from flask import Flask, current_app, redirect, request

from app.api import client_error, error_response
from app.api.auth import ui_principal
from app.context import ctx
from app.hosts import register_host_check
from data.roles import UI_ROLES

UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Pages that need no session, matched exactly: a prefix match would also open `/loginx`.
# `/metrics` checks its own callers (app/metrics_http.py).
PUBLIC_PATHS = frozenset(
    {"/login", "/login/wall", "/logout", "/_favicon.ico", "/favicon.ico", "/metrics"}
)
# Whole directories that need no session here (the API checks its own callers).
PUBLIC_PREFIXES = ("/api/", "/assets/", "/_dash-component-suites/")
DASH_PREFIX = "/_dash-"
DASH_UPDATE = "/_dash-update-component"
# Where the Dash app built on a Flask server is kept (see `_remember_dash_app`).
DASH_APP_KEY = "milldash.dash_app"
_PROPERTY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")

# Dash's renderer and dash-ag-grid's function strings need eval; inline styles are plotly's and
# the grid's. Inline scripts run only when their hash is listed (see `_script_hashes`).
CSP_TEMPLATE = (
    "default-src 'self'; "
    "script-src 'self' 'unsafe-eval'{hashes}; "
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def origin_allowed(origin: str | None) -> bool:
    """No Origin (a non-browser client), the server's own origin, or a configured one."""
    if not origin:
        return True
    allowed = ctx().config.allowed_origins
    if origin in allowed or "*" in allowed:
        return True
    parts = urlsplit(origin)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return f"{scheme}://{parts.netloc}" == f"{request.scheme}://{request.host}"


def _check_origin() -> Any:
    if request.method in UNSAFE_METHODS and not origin_allowed(request.headers.get("Origin")):
        return error_response(
            403, "origin_not_allowed", "Requests that change data must come from this site."
        )
    return None


# -- Dash's callback endpoint ---------------------------------------------------------------


def _component_id(text: str) -> Any:
    """A component id as Dash writes it in a callback key: dots escaped, dict ids as JSON."""
    text = text.replace("\\.", ".")
    if text.startswith("{"):
        try:
            ident = json.loads(text)
        except ValueError:
            return None
        return ident if isinstance(ident, dict) and ident else None
    return text or None


def parse_output_key(key: Any) -> list[tuple[Any, str]] | None:
    """The (component id, property) pairs a Dash callback key names; None if it is malformed.

    Dash runs the callback stored under this key (`callback_map[body["output"]]`), so these
    are the outputs a request will really update. Formats: `id.prop`, multi-output
    `..id1.prop1...id2.prop2..`, pattern-matching ids as JSON, `@hash` after a duplicate
    output's property.
    """
    if not isinstance(key, str) or not key:
        return None
    if key.startswith(".."):
        if len(key) < 5 or not key.endswith(".."):
            return None
        parts = key[2:-2].split("...")
    else:
        parts = [key]
    pairs: list[tuple[Any, str]] = []
    for part in parts:
        ident, dot, prop = part.rpartition(".")
        prop = prop.split("@", 1)[0]
        component = _component_id(ident) if dot else None
        if component is None or not _PROPERTY_RE.fullmatch(prop):
            return None
        pairs.append((component, prop))
    return pairs


def _matches(pattern: Any, ident: Any) -> bool:
    """Whether a request's component id fits the callback's (wildcards `["ALL"]` fit any)."""
    if not isinstance(pattern, dict):
        return ident == pattern
    if not isinstance(ident, dict) or set(ident) != set(pattern):
        return False
    return all(isinstance(want, list) or ident[k] == want for k, want in pattern.items())


def _is_prop(item: Any, ident: Any = None, prop: str | None = None) -> bool:
    """`{"id", "property", ...}` as Dash's renderer sends it (and naming ident.prop, if given)."""
    if not isinstance(item, dict) or not isinstance(item.get("property"), str):
        return False
    if not isinstance(item.get("id"), str | dict):
        return False
    # A duplicate output's property carries `@<hash>` (allow_duplicate=True).
    named = item["property"].split("@", 1)[0]
    return prop is None or (named == prop and _matches(ident, item["id"]))


def _is_props(item: Any, ident: Any = None, prop: str | None = None) -> bool:
    """One prop, or the list a pattern-matching (ALL, ALLSMALLER) dependency expands to."""
    if isinstance(item, list):
        return all(_is_prop(i, ident, prop) for i in item)
    return _is_prop(item, ident, prop)


def callback_body_error(body: Any, callbacks: dict[str, Any] | None) -> str | None:
    """Why Dash could not run this request body, or None. Checks what Dash's dispatch assumes
    (and fails on with a 500 otherwise): the callback exists, `outputs` names its outputs,
    `inputs` and `state` have one entry per declared dependency."""
    if not isinstance(body, dict):
        return "The body must be a JSON object."
    output = body.get("output")
    if not isinstance(output, str):
        return "'output' must be a string naming the callback."
    for name in ("outputs", "inputs", "state", "changedPropIds"):
        if not isinstance(body.get(name, []), list | dict):
            return f"'{name}' must be a list."
    if not isinstance(body.get("changedPropIds", []), list) or not all(
        isinstance(p, str) for p in body.get("changedPropIds", [])
    ):
        return "'changedPropIds' must be a list of strings."
    if callbacks is None:
        return None
    spec = callbacks.get(output)
    if spec is None:
        return f"No callback has the output {output[:200]!r}."
    pairs = parse_output_key(output) or []
    outputs = body.get("outputs", [])
    if output.startswith(".."):
        if not isinstance(outputs, list) or len(outputs) != len(pairs):
            return f"'outputs' must list the callback's {len(pairs)} outputs."
        if not all(_is_props(o, i, p) for o, (i, p) in zip(outputs, pairs, strict=True)):
            return "'outputs' do not match the callback's outputs."
    elif pairs and not _is_props(outputs, *pairs[0]):
        return "'outputs' does not match the callback's output."
    for name in ("inputs", "state"):
        given, declared = body.get(name, []), spec.get(name) or []
        if not isinstance(given, list) or len(given) != len(declared):
            return f"'{name}' must have the callback's {len(declared)} entries."
        if not all(_is_props(item) for item in given):
            return f"Each entry of '{name}' must be {{'id', 'property', 'value'}}."
    return None


def _server_dash_app() -> Any:
    return current_app.extensions.get(DASH_APP_KEY)


def _gate_callback(role: str) -> Any:
    """Refuse a callback request that is malformed (400, JSON) or whose outputs the caller's
    role may not update (403), before Dash parses it."""
    body = request.get_json(silent=True)  # depth-limited (app.api); Dash reuses the cached body
    if not isinstance(body, dict):
        return client_error(
            400, "bad_callback", "The body must be a JSON object (nested at most 200 levels)."
        )
    pairs = parse_output_key(body.get("output"))
    # The callbacks of the shell and of the pages the registry opens to the display role.
    if role == "display" and body.get("output") not in ctx().display_outputs:
        return error_response(403, "forbidden", "A display session shows the wall only.")
    app = _server_dash_app()
    callbacks = app.callback_map if app is not None else None
    problem = callback_body_error(body, callbacks)
    if problem is None and pairs is None:
        spec = (callbacks or {}).get(body["output"]) or {}
        if not spec.get("no_output"):  # those are keyed by a hash, not by outputs
            problem = "'output' is not a Dash callback key."
    if problem is not None:
        return client_error(400, "bad_callback", problem)
    return None


# -- sign-in gate ---------------------------------------------------------------------------


def is_public(path: str) -> bool:
    """Whether `path` is served without a session (the sign-in pages, static files, the API)."""
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def _gate_ui() -> Any:
    """Pages and Dash endpoints need a session unless anonymous reading is on."""
    path = request.path
    if is_public(path):
        return None
    who = ui_principal()
    if who is None:
        if path.startswith(DASH_PREFIX):
            return error_response(401, "unauthorized", "Sign in first.")
        target = request.full_path.rstrip("?")
        return redirect(f"/login?next={quote(target)}", code=303)
    if who.role not in UI_ROLES:
        return _not_for_ui(who.role, path)
    if path == DASH_UPDATE and request.method == "POST":
        return _gate_callback(who.role)
    return None


def _not_for_ui(role: str, path: str) -> Any:
    """A role without UI rights (`metrics`: it reads /metrics only) gets no page, no layout
    and no callback: 403, as JSON on Dash's endpoints, else a short page."""
    message = f"The {role} role does not open the UI."
    if path.startswith(DASH_PREFIX):
        return error_response(403, "forbidden", message)
    body = (
        '<!doctype html><html lang="en"><head><title>Not open to your role</title></head>'
        f"<body><h1>Not open to your role</h1><p>{escape(message)}</p>"
        '<p><a href="/logout">Sign out</a></p></body></html>'
    )
    return body, 403, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}


# -- headers --------------------------------------------------------------------------------


def _script_hashes() -> str:
    """`'sha256-…'` sources for the Dash app's inline scripts (its renderer start-up line and
    any inline clientside callbacks), from Dash's own list; computed once, after every callback
    is registered, so a script that is not Dash's never runs."""
    extensions = current_app.extensions
    cached = extensions.get("milldash.csp_hashes")
    if cached is None:
        app = extensions.get(DASH_APP_KEY)
        if app is None:  # no Dash app on this server (yet): no inline script may run
            return ""
        cached = "".join(f" {h}" for h in app.csp_hashes("sha256"))
        extensions["milldash.csp_hashes"] = cached
    return cached


def content_security_policy() -> str:
    """The CSP sent with every answer."""
    return CSP_TEMPLATE.format(hashes=_script_hashes())


def _headers(response: Any) -> Any:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Content-Security-Policy", content_security_policy())
    return response


_HOOKED = False


def _remember_dash_app(app: dash.Dash) -> None:
    """Dash `setup` hook: keep the Dash app where this module's checks find it (its callback
    map, its inline scripts). Dash builds the app after the Flask server is secured."""
    server = getattr(app, "server", None)
    if isinstance(server, Flask):
        server.extensions[DASH_APP_KEY] = app


def register_security(server: Flask) -> None:
    """Host check first, then Origin, sign-in and callback gates; headers on every answer."""
    global _HOOKED
    if not _HOOKED:  # Dash's hooks are process-wide: register once
        dash.hooks.setup()(_remember_dash_app)
        _HOOKED = True
    register_host_check(server)
    server.before_request(_check_origin)
    server.before_request(_gate_ui)
    server.after_request(_headers)
