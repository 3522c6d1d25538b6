/*
 * Live wiring for the dash-extensions WebSocket (id "ws").
 *
 * The component never reconnects by itself and opens a socket only when its `url` changes, so
 * this module owns the url: it is built from window.location, carries the topics of the page,
 * `since=<last seq>` to resume, and `r=<attempt>` so that a retry is a new url. Frames are
 * parsed here; pages learn "something on topic T changed up to seq N" through throttled tick
 * stores and read what changed from the server, so a burst merged by Dash loses nothing.
 *
 * One reconnect schedule for every page (the wall included): backoffDelay(n) after the n-th
 * failure since the last welcome: 0.5–1 s, 1–2 s, 2–4 s, … up to 7.5–15 s. The attempt number
 * in the url never goes back, so a retry always opens a socket (the component ignores an url
 * it already has). While the socket is away the page also polls; a poll that reaches the
 * server after it was unreachable retries the socket at once instead of waiting out a long
 * step. assets/live_page.js shows stale data and re-renders a page that failed to load.
 */
(function () {
  "use strict";

  const TICK_GAP_MS = { maintenance: 250, machines: 250, production: 1000, dashboard: 1000 };
  const BACKOFF_FIRST_MS = 1000; // the first retry comes within this
  const BACKOFF_MAX_MS = 15000;
  const POLL_AFTER_FAILURES = 3;
  const PING_EVERY_MS = 15000;

  const state = {
    lastSeq: null, // last event seq this page has seen (resume point)
    url: null, // the socket url last built
    attempt: 0, // only grows: each retry is a new url
    failures: 0, // failed attempts since the last welcome
    socketOpen: false,
    connected: false, // open and welcomed
    downSince: null, // when the socket was lost (null: connected, or not tried yet)
    pollOkAt: null, // when a poll last brought the page up to date (assets/live_poll.js)
    resumed: false,
    lastEventAt: null,
    lastHeardAt: null,
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
    state.url = scheme + "//" + loc.host + "/api/v1/ws?" + params.toString();
    return state.url; // tap() hands the socket opened on it to the modules that asked
  }

  function setStatus(kind) {
    const detail = state.topics.join(", ");
    setProps("connection-status", { "data-state": kind });
    setProps("connection-label", { children: kind });
    setProps("connection-topics", { children: detail || "none" });
    document.body && document.body.setAttribute("data-connection", kind);
  }

  function backoffDelay(failures) {
    // Exponential backoff with jitter: the n-th step lies in [cap / 2, cap].
    const n = Math.max(1, failures);
    const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * Math.pow(2, n - 1));
    return cap / 2 + Math.random() * (cap / 2);
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
      case "welcome": {
        const wasDown = state.downSince !== null;
        state.failures = 0; // the schedule starts again at its first step
        if (state.retryTimer) clearTimeout(state.retryTimer);
        state.retryTimer = null;
        state.connected = true;
        state.downSince = null;
        polling("stop");
        setStatus("connected");
        if (wasDown && window.milldash.onReconnected) window.milldash.onReconnected();
        // A resumed socket replays after the welcome: its seq is not applied yet.
        if (state.lastSeq === null) state.lastSeq = frame.seq;
        if (!state.resumed) tickAll(false);
        return;
      }
      case "resync":
        state.lastSeq = frame.seq;
        tickAll(true);
        return;
      case "pong":
      case "subscribed":
      case "unsubscribed":
      case "status":
      case "presence": // no seq; assets/ticket_presence.js reads it from the socket itself
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
    // Feed, ticker and critical toast straight from the frame (assets/live_alerts.js).
    if (window.milldash.alerts) window.milldash.alerts.accept(frame);
    if (frame.type === "system_alert") {
      setProps("system-alert", { data: frame });
      return;
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

  // The polling fallback lives in assets/live_poll.js.
  function polling(what) {
    const fallback = window.milldash && window.milldash.polling;
    if (fallback) fallback[what]();
  }

  function connect() {
    if (state.retryTimer) clearTimeout(state.retryTimer);
    state.retryTimer = null;
    state.attempt += 1;
    setStatus("connecting");
    setProps("ws", { url: socketUrl(window.location.pathname, state.attempt) });
  }

  function schedule() {
    if (state.retryTimer) return;
    state.failures += 1;
    state.retryTimer = setTimeout(connect, backoffDelay(state.failures));
    if (state.failures >= POLL_AFTER_FAILURES) polling("start");
  }

  function onState(wsState) {
    const ready = wsState && wsState.readyState;
    if (ready === 1) {
      state.socketOpen = true;
      return;
    }
    if (ready === 3) {
      state.socketOpen = false;
      state.connected = false;
      if (state.downSince === null) state.downSince = Date.now();
      setStatus("disconnected");
      schedule();
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
    state.failures = 0;
    connect();
  }

  // The page's own socket, for modules that must see every frame (the component's `message`
  // prop merges bursts) or write to it directly: tap(fn) calls fn(socket) for each socket
  // opened on the url built here (assets/live_alerts.js, assets/ticket_presence.js). Other
  // sockets on the page are left alone.
  const taps = [];
  function tap(fn) {
    taps.push(fn);
  }
  const Native = window.WebSocket;
  if (Native && !Native.milldashTapped) {
    const Tapped = class extends Native {
      constructor(...args) {
        super(...args);
        if (state.url && String(args[0]) === state.url) {
          const socket = this;
          taps.forEach(function (fn) { fn(socket); });
        }
      }
    };
    Tapped.milldashTapped = true;
    window.WebSocket = Tapped;
  }

  // The network is back (a laptop waking, Wi-Fi returning): no need to wait out the step.
  window.addEventListener("online", function () {
    if (!state.socketOpen) connect();
  });

  window.milldash = Object.assign(window.milldash || {}, {
    state: state,
    socketUrl: socketUrl,
    onMessage: onMessage,
    onState: onState,
    heartbeat: heartbeat,
    reconnectNow: reconnectNow,
    handleFrame: handleFrame,
    backoffDelay: backoffDelay,
    connect: connect,
    setProps: setProps,
    tap: tap,
  });

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    live: {
      url: function (pathname) {
        // A page change: its topics, on a new url (a retry timer would only repeat it).
        heartbeat();
        if (state.retryTimer) clearTimeout(state.retryTimer);
        state.retryTimer = null;
        state.attempt += 1;
        setStatus("connecting");
        return socketUrl(pathname, state.attempt);
      },
      message: function (message) {
        onMessage(message);
        return window.dash_clientside.no_update;
      },
      state: function (wsState) {
        onState(wsState);
        return window.dash_clientside.no_update;
      },
      reconnect: function (n) {
        if (n) reconnectNow();
        return window.dash_clientside.no_update;
      },
    },
  });
})();
