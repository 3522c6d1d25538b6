"""Handing a WebSocket over from its HTTP request to a session of its own.

Under gevent the request's greenlet ends with the upgrade and the socket is served by a
greenlet with a shallow stack (app/realtime/session.py): an idle socket then holds no request
context, WSGI environ or read buffer. Nothing heavy is imported here: the server's handler
(app/server.py) reads `DETACHED` before the app is loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Set in the WSGI environ of an upgrade whose socket is served apart from its request: the
# server's handler then leaves the connection alone (app/server.py).
DETACHED = "milldash.socket_detached"
# In the WSGI environ of an upgrade: `after_end(fn)` runs `fn` once the socket has ended
# (at once if it has), for what a request holds for its socket's life (a Redis slot, say).
AFTER_END = "milldash.socket_after_end"


def own_socket(ws: Any, server_socket: Any) -> Any:
    """A socket of the session's own: simple-websocket's duplicate of the server's socket, or
    a duplicate made here. The server closes its own when the request ends."""
    if server_socket is None or ws.sock is not server_socket:
        return ws.sock
    return server_socket.dup()


def detach(run: Callable[[], None], environ: dict[str, Any]) -> None:
    """Serve the socket apart from the request under gevent: `run` gets a greenlet of its
    own, with a shallow stack, and the request (its greenlet, environ, buffers) ends now.
    Elsewhere (a threaded test server) `run` runs here, in the request's thread."""
    from app.cpu_pool import under_gevent

    if not under_gevent():
        run()
        return
    import gevent

    environ[DETACHED] = True
    gevent.spawn(run)
