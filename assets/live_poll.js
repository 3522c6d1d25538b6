/*
 * The polling fallback of assets/live.js: after a few failed socket attempts the page also
 * reads GET /api/v1/events?since= every few seconds until the socket is back, so it keeps up
 * where sockets cannot pass. A poll that reaches the server after it was unreachable (the
 * server is back after a restart) retries the socket at once instead of waiting out the
 * current backoff step; the schedule itself carries on.
 */
(function () {
  "use strict";

  const POLL_EVERY_MS = 3000;

  const poller = { timer: null, reached: null };

  function live() {
    return window.milldash;
  }

  function reached(ok) {
    const before = poller.reached;
    poller.reached = ok;
    const state = live().state;
    if (ok && before !== true && state.retryTimer) live().connect();
  }

  function poll() {
    const state = live().state;
    const since = state.lastSeq === null ? 0 : state.lastSeq;
    const url = "/api/v1/events?since=" + since + "&topics=" + state.topics.join(",") + "&limit=500";
    fetch(url, { credentials: "same-origin" })
      .then(function (r) {
        reached(true);
        return r.ok ? r.json() : null;
      })
      .then(function (body) {
        if (!body || !poller.timer) return;
        state.lastHeardAt = Date.now(); // a quiet plant's poll is a heartbeat too
        state.pollOkAt = state.lastHeardAt;
        if (!body.complete && body.events.length === 0) {
          live().handleFrame({ type: "resync", seq: body.seq });
          return;
        }
        body.events.forEach(live().handleFrame);
        live().setProps("connection-mode", { children: "polling" });
      })
      .catch(function () { reached(false); }); // server still away; keep trying
  }

  function start() {
    if (poller.timer) return;
    poller.reached = null;
    poller.timer = setInterval(poll, POLL_EVERY_MS);
    poll();
  }

  function stop() {
    if (poller.timer) clearInterval(poller.timer);
    poller.timer = null;
    poller.reached = null;
    live().state.pollOkAt = null;
    live().setProps("connection-mode", { children: "socket" });
  }

  window.milldash = Object.assign(window.milldash || {}, {
    polling: { start: start, stop: stop, state: poller },
  });
})();
