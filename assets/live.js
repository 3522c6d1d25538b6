/*
 * Live wiring for the dash-extensions WebSocket (id "ws").
 *
 * The component never reconnects by itself and opens a socket only when its `url` changes, so
 * this module owns the url: it is built from window.location, carries the topics of the page,
 * `since=<last seq>` to resume, and `r=<attempt>` so that a retry is a new url. Frames are
 * parsed here; pages learn "something on topic T changed up to seq N" through throttled tick
 * stores and read what changed from the server, so a burst merged by Dash loses nothing.
 */
(function () {
  "use strict";

  const TICK_GAP_MS = { maintenance: 250, machines: 250, production: 1000, dashboard: 1000 };
  const BACKOFF_BASE_MS = 500;
  const BACKOFF_MAX_MS = 15000;
  const POLL_AFTER_FAILURES = 3;
  const POLL_EVERY_MS = 3000;
  const PING_EVERY_MS = 15000;

  const state = {
    lastSeq: null, // last event seq this page has seen (resume point)
    attempt: 0,
    failures: 0,
    socketOpen: false,
    resumed: false,
    lastEventAt: null,
    lastHeardAt: null,
    pollTimer: null,
    retryTimer: null,
    pingTimer: null,
    nonce: 0,
    topics: [],
    pending: {},
    tickTimers: {},
    lastTick: {},
    ticks: {},
  };

  function setProps(id, props) {
    if (window.dash_clientside && window.dash_clientside.set_props) {
      window.dash_clientside.set_props(id, props);
    }
  }

  // The page registry's path -> topics map, serialised into the layout by the server.
  function pageTopics() {
    const root = document.getElementById("app-root");
    try {
      return JSON.parse((root && root.dataset.pageTopics) || "{}");
    } catch (err) {
      return {};
    }
  }

  function topicsFor(pathname) {
    const path = (pathname || "/").replace(/\/+$/, "") || "/";
    return pageTopics()[path] || ["dashboard"];
  }

  function socketUrl(pathname, attempt) {
    const loc = window.location;
    const scheme = loc.protocol === "https:" ? "wss:" : "ws:";
    state.topics = topicsFor(pathname);
    const params = new URLSearchParams();
    params.set("subscribe", state.topics.join(","));
    if (state.lastSeq !== null) params.set("since", String(state.lastSeq));
    params.set("r", String(attempt || 0));
    state.resumed = state.lastSeq !== null;
    return scheme + "//" + loc.host + "/api/v1/ws?" + params.toString();
  }

  function setStatus(kind) {
    const detail = state.topics.join(", ");
    setProps("connection-status", { "data-state": kind });
    setProps("connection-label", { children: kind });
    setProps("connection-topics", { children: detail || "none" });
    document.body && document.body.setAttribute("data-connection", kind);
  }

  function tick(topic, force) {
    // One tick per topic per gap; the last one of a burst always goes out (trailing).
    const now = Date.now();
    const gap = TICK_GAP_MS[topic] || 500;
    const since = now - (state.lastTick[topic] || 0);
    state.pending[topic] = true;
    if (state.tickTimers[topic]) return;
    const fire = function () {
      state.tickTimers[topic] = null;
      if (!state.pending[topic]) return;
      state.pending[topic] = false;
      state.lastTick[topic] = Date.now();
      state.ticks[topic] = (state.ticks[topic] || 0) + 1;
      setProps("tick-" + topic, {
        data: { seq: state.lastSeq, n: state.ticks[topic], resync: !!force },
      });
    };
    if (since >= gap) fire();
    else state.tickTimers[topic] = setTimeout(fire, gap - since);
  }

  function tickAll(force) {
    Object.keys(TICK_GAP_MS).forEach(function (t) { tick(t, force); });
  }

  function handleFrame(frame) {
    state.lastHeardAt = Date.now();
    if (!frame || typeof frame !== "object") return;
    switch (frame.type) {
      case "welcome":
        state.failures = 0;
        state.attempt = 0;
        stopPolling();
        setStatus("connected");
        // A resumed socket replays after the welcome: its seq is not applied yet.
        if (state.lastSeq === null) state.lastSeq = frame.seq;
        if (!state.resumed) tickAll(false);
        return;
      case "resync":
        state.lastSeq = frame.seq;
        tickAll(true);
        return;
      case "pong":
      case "subscribed":
      case "unsubscribed":
      case "status":
        return;
      case "error":
        console.warn("socket error frame", frame.code, frame.message);
        return;
      default:
        break;
    }
    if (typeof frame.seq !== "number") return;
    if (state.lastSeq !== null && frame.seq <= state.lastSeq) return; // duplicate
    state.lastSeq = frame.seq;
    state.lastEventAt = Date.now();
    if (frame.type === "system_alert") {
      setProps("system-alert", { data: frame });
      return;
    }
    if (frame.type === "maintenance_alert" && frame.data && frame.data.priority === "critical") {
      setProps("critical-alert", { data: frame });
    }
    tick(frame.topic, false);
    if (frame.type !== "dashboard_refresh" && frame.topic !== "dashboard") tick("dashboard", false);
  }

  function onMessage(message) {
    if (!message || typeof message.data !== "string") return;
    let frame;
    try {
      frame = JSON.parse(message.data);
    } catch (e) {
      console.warn("unparsable frame");
      return;
    }
    handleFrame(frame);
  }

  function schedule(pathname) {
    if (state.retryTimer) return;
    state.failures += 1;
    const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * Math.pow(2, state.failures - 1));
    const delay = cap / 2 + Math.random() * (cap / 2); // exponential backoff, jitter
    state.retryTimer = setTimeout(function () {
      state.retryTimer = null;
      state.attempt += 1;
      setStatus("connecting");
      setProps("ws", { url: socketUrl(window.location.pathname, state.attempt) });
    }, delay);
    if (state.failures >= POLL_AFTER_FAILURES) startPolling();
  }

  function poll() {
    const since = state.lastSeq === null ? 0 : state.lastSeq;
    const url = "/api/v1/events?since=" + since + "&topics=" + state.topics.join(",") + "&limit=500";
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) return;
        state.lastHeardAt = Date.now(); // a quiet plant's poll is a heartbeat too
        if (!body.complete && body.events.length === 0) {
          handleFrame({ type: "resync", seq: body.seq });
          return;
        }
        body.events.forEach(handleFrame);
        setProps("connection-mode", { children: "polling" });
      })
      .catch(function () { /* server still away; keep trying */ });
  }

  function startPolling() {
    if (state.pollTimer) return;
    state.pollTimer = setInterval(poll, POLL_EVERY_MS);
  }

  function stopPolling() {
    if (state.pollTimer) clearInterval(state.pollTimer);
    state.pollTimer = null;
    setProps("connection-mode", { children: "socket" });
  }

  function onState(wsState, pathname) {
    const ready = wsState && wsState.readyState;
    if (ready === 1) {
      state.socketOpen = true;
      return;
    }
    if (ready === 3) {
      state.socketOpen = false;
      setStatus("disconnected");
      schedule(pathname);
    }
  }

  function heartbeat() {
    // Protocol pings are invisible to page JS; an application ping proves the path is alive.
    if (state.pingTimer) return;
    state.pingTimer = setInterval(function () {
      if (!state.socketOpen) return;
      state.nonce += 1;
      setProps("ws", { send: JSON.stringify({ type: "ping", nonce: state.nonce }) });
    }, PING_EVERY_MS);
  }

  function reconnectNow() {
    if (state.retryTimer) clearTimeout(state.retryTimer);
    state.retryTimer = null;
    state.failures = 0;
    state.attempt += 1;
    setStatus("connecting");
    setProps("ws", { url: socketUrl(window.location.pathname, state.attempt) });
  }

  function ageText() {
    if (state.lastEventAt === null) return "no events yet";
    const s = Math.round((Date.now() - state.lastEventAt) / 1000);
    return s < 60 ? s + " s ago" : Math.round(s / 60) + " min ago";
  }

  setInterval(function () {
    const el = document.getElementById("connection-age");
    if (el) el.textContent = ageText();
    const clock = document.getElementById("plant-clock");
    if (clock) clock.textContent = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }, 1000);

  window.milldash = Object.assign(window.milldash || {}, {
    state: state,
    socketUrl: socketUrl,
    onMessage: onMessage,
    onState: onState,
    heartbeat: heartbeat,
    reconnectNow: reconnectNow,
    handleFrame: handleFrame,
  });

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    live: {
      url: function (pathname) {
        heartbeat();
        setStatus("connecting");
        return socketUrl(pathname, state.attempt);
      },
      message: function (message) {
        onMessage(message);
        return window.dash_clientside.no_update;
      },
      state: function (wsState, pathname) {
        onState(wsState, pathname);
        return window.dash_clientside.no_update;
      },
      reconnect: function (n) {
        if (n) reconnectNow();
        return window.dash_clientside.no_update;
      },
      refreshGrid: function (tickData) {
        if (!tickData || !window.dash_ag_grid) return window.dash_clientside.no_update;
        window.dash_ag_grid.getApiAsync("tickets-grid").then(function (api) {
          if (api && api.refreshInfiniteCache) api.refreshInfiniteCache();
        }).catch(function () { /* grid not mounted */ });
        return window.dash_clientside.no_update;
      },
    },
  });
})();
