"""The in-page probes of `bench.ui_latency`: a socket of its own that stamps when each alert
frame reaches the page, a MutationObserver that stamps when each alert (by seq) appears in a
container, and the REST calls that open tickets, timed from inside the page.

All times are the page's `performance.now()` in ms, so they need no clock shared with Python.
A measurement that does not complete within DEADLINE_MS (passed to the scripts) counts as lost.
"""

from __future__ import annotations

DEADLINE_MS = 5000

# The page is quiet: no tick waiting in assets/live.js, no Dash callback requested, queued or
# running (an isolated event meets an idle page, not the tail of the one before).
IDLE_JS = """
() => {
  const live = window.milldash && window.milldash.state;
  if (!live || Object.values(live.tickTimers || {}).some(Boolean)) return false;
  return (window.dash_stores || []).every((store) => {
    const state = store.getState();
    if (state.appLifecycle !== 'HYDRATED' || state.isLoading) return false;
    return Object.entries(state.callbacks || {}).every(([key, pending]) =>
      key === 'stored' || key === 'completed' || !Array.isArray(pending) || !pending.length);
  });
}
"""

# Install once per page: `container` is the CSS selector of the list the alerts appear in.
INSTALL_JS = """
(container) => {
  window.__frames = {};  // ticket id -> {seq, t}: the alert frame on the probe's own socket
  window.__shown = {};   // seq -> t: first moment an item with that data-seq is in `container`
  const stamp = () => {
    const now = performance.now();
    const root = document.querySelector(container);
    if (!root) return;
    root.querySelectorAll('[data-seq]').forEach((el) => {
      if (window.__shown[el.dataset.seq] === undefined) window.__shown[el.dataset.seq] = now;
    });
  };
  // React may reuse nodes (a prepend can look like new text in old nodes), so data-seq
  // attribute changes count as well as added nodes. The container itself may be re-mounted.
  const watch = () => {
    const root = document.querySelector(container);
    if (!root || root.__probed) return;
    root.__probed = true;
    stamp();
    new MutationObserver(stamp).observe(root, {childList: true, subtree: true,
      attributes: true, attributeFilter: ['data-seq']});
  };
  new MutationObserver(watch).observe(document.body, {childList: true, subtree: true});
  watch();
  const url = (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host +
    '/api/v1/ws?subscribe=maintenance';
  const ws = new WebSocket(url);
  ws.onmessage = (m) => {
    const f = JSON.parse(m.data);
    if (f.type === 'maintenance_alert') {
      window.__frames[String(f.data.ticket_id)] = {seq: String(f.seq), t: performance.now()};
    }
  };
  return new Promise((r) => { ws.onopen = () => r(true); });
}
"""

# One ticket: {frame, alert, row} ms after the REST call began (row only when asked for;
# null for what did not arrive before the deadline).
ONE_JS = """
async ([token, title, machine, withRow, DEADLINE]) => {
  const t0 = performance.now();
  const res = await fetch('/api/v1/tickets', {method: 'POST', headers: {
      'Content-Type': 'application/json', 'Authorization': 'Bearer ' + token},
    body: JSON.stringify({machine_id: machine, title: title, priority: 'medium'})});
  const id = String((await res.json()).id);
  let rowAt = null;
  return await new Promise((resolve) => {
    const check = () => {
      const now = performance.now();
      if (withRow && rowAt === null &&
          document.querySelector('#tickets-grid .ag-row[row-id="' + id + '"]')) rowAt = now;
      const frame = window.__frames[id];
      const shown = frame && window.__shown[frame.seq];
      const done = shown !== undefined && (!withRow || rowAt !== null);
      if (done || now - t0 > DEADLINE) {
        resolve({frame: frame ? frame.t - t0 : null,
                 alert: shown !== undefined ? shown - t0 : null,
                 row: rowAt !== null ? rowAt - t0 : null});
      } else {
        requestAnimationFrame(check);
      }
    };
    check();
  });
}
"""

# `n` tickets at once: how many of them appeared, and when the last one did.
BURST_JS = """
async ([token, n, machine, DEADLINE]) => {
  const t0 = performance.now();
  const post = (i) => fetch('/api/v1/tickets', {method: 'POST', headers: {
      'Content-Type': 'application/json', 'Authorization': 'Bearer ' + token},
    body: JSON.stringify({machine_id: machine, title: 'Burst ' + i, priority: 'low'})})
    .then((r) => r.json()).then((t) => String(t.id));
  const ids = await Promise.all(Array.from({length: n}, (_, i) => post(i)));
  const t1 = performance.now();  // the deadline runs from the last answer
  const shownAt = (id) => {
    const frame = window.__frames[id];
    return frame ? window.__shown[frame.seq] : undefined;
  };
  return await new Promise((resolve) => {
    const check = () => {
      const times = ids.map(shownAt).filter((t) => t !== undefined);
      const now = performance.now();
      if (times.length === ids.length || now - t1 > DEADLINE) {
        resolve({shown: times.length, last: times.length ? Math.max(...times) - t0 : null});
      } else {
        setTimeout(check, 10);
      }
    };
    check();
  });
}
"""


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank); infinite for no values."""
    if not values:
        return float("inf")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]
