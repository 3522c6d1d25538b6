/*
 * Alerts drawn from the socket frame itself: the maintenance page's feed (#alerts), the
 * wall's ticker (#wall-ticker) and the critical toast, without the tick -> callback -> query
 * -> render round trip.
 *
 * Every alert frame (maintenance_alert, system_alert) reaches accept(): at once from a tap on
 * the page's own socket (the WebSocket component's `message` prop merges bursts, so a Dash
 * callback does not see every frame), and again from assets/live.js (replay, the polling
 * fallback); frames are de-duplicated by seq. The items are Dash components (the same markup
 * and classes the server renders: components/alert_feed.py, components/wall.py) put in place
 * with set_props, so React keeps owning the DOM and frame text only ever becomes text nodes.
 *
 * The server's render stays the source of truth: merge() combines what the server rendered
 * with the frames seen here, newest seq first, bounded to the feed's size, and runs again
 * after each server render (a clientside callback on the container's children), so a
 * response computed before a frame arrived cannot drop it.
 */
(function () {
  "use strict";

  const FEED_SIZE = 50; // callbacks/maintenance.py FEED_SIZE
  const TICKER_SIZE = 3; // components/wall_tiles.py TICKER_SIZE
  const PRIORITY_COLORS = { low: "#868e96", medium: "#1c7ed6", high: "#f59f00", critical: "#e03131" };
  const LEVEL_COLORS = { info: "#1c7ed6", warning: "#f59f00", critical: "#e03131" };
  const LABELS = { in_progress: "in progress", on_hold: "on hold" };
  const ALERT_TYPES = { maintenance_alert: true, system_alert: true };

  const alerts = {
    recent: [], // alert frames seen on this page, newest seq first, at most FEED_SIZE
    skew: 0, // browser clock minus server clock, from the newest live frame (ms)
  };

  function el(type, props) {
    return { type: type, namespace: "dash_html_components", props: props };
  }

  function duration(seconds) {
    // components/wording.py duration()
    const total = Math.max(0, Math.round(seconds));
    if (total < 60) return total + " s";
    let minutes = Math.floor(total / 60);
    if (minutes < 60) return minutes + " min";
    let hours = Math.floor(minutes / 60);
    minutes %= 60;
    if (hours < 24) return minutes ? hours + " h " + minutes + " min" : hours + " h";
    const days = Math.floor(hours / 24);
    hours %= 24;
    return hours ? days + " d " + hours + " h" : days + " d";
  }

  function ageSeconds(stamp, now) {
    const t = Date.parse(stamp || "");
    return isNaN(t) ? null : (now - alerts.skew - t) / 1000;
  }

  function ago(stamp, now) {
    const s = ageSeconds(stamp, now);
    if (s === null) return "";
    return s < 30 ? "just now" : duration(s) + " ago";
  }

  function word(code) {
    return code ? LABELS[code] || String(code).replace(/_/g, " ") : "–";
  }

  function cls(code) {
    return String(code).replace(/[^A-Za-z0-9_-]/g, "");
  }

  function machineOf(data) {
    return data.machine_name || "machine " + data.machine_id;
  }

  /* One line of the maintenance feed: components/alert_feed.py alert_item(). */
  function feedItem(frame, now) {
    const data = frame.data || {};
    const priority = data.priority || "low";
    return el("Div", {
      className: "alert-item prio-" + cls(priority),
      "data-seq": String(frame.seq),
      "data-ticket-id": String(data.ticket_id),
      "data-ts": String(frame.timestamp || ""),
      children: [
        el("Span", {
          children: word(priority),
          className: "badge prio",
          style: { background: PRIORITY_COLORS[priority] || "#888" },
        }),
        el("Span", { children: " " + ago(frame.timestamp, now) + " ", className: "muted" }),
        el("Strong", { children: "#" + data.ticket_id + " " + (data.title || "") }),
        el("Span", { children: " — " + machineOf(data), className: "muted" }),
      ],
    });
  }

  /* One ticker item of the wall: components/wall.py ticker_item(). */
  function tickerItem(frame, now) {
    const data = frame.data || {};
    let badge, color, head, text;
    if (frame.type === "system_alert") {
      badge = data.level || "info";
      color = LEVEL_COLORS[badge] || "#1c7ed6";
      head = "Plant message";
      text = data.message || "";
    } else {
      badge = data.priority || "low";
      color = PRIORITY_COLORS[badge] || "#868e96";
      head = machineOf(data);
      text = "#" + data.ticket_id + " " + (data.title || "");
    }
    const s = ageSeconds(frame.timestamp, now);
    const age = s === null || s < 60 ? "just now" : duration(s);
    return el("Div", {
      children: [
        el("Span", { children: String(badge), className: "prio-badge", style: { background: color } }),
        el("Div", {
          children: [
            el("Div", {
              children: [
                el("Span", { children: head, className: "ticker-head" }),
                el("Span", { children: age, className: "ticker-age" }),
              ],
              className: "ticker-top",
            }),
            el("Div", { children: text, className: "ticker-text" }),
          ],
          className: "ticker-body",
        }),
      ],
      className: "ticker-item level-" + cls(badge),
      "data-seq": String(frame.seq),
    });
  }

  function layoutOf(id) {
    // The component as the renderer holds it (what set_props would patch).
    const store = (window.dash_stores || [])[0];
    const state = store && store.getState ? store.getState() : null;
    const path = state && state.paths && state.paths.strs && state.paths.strs[id];
    if (!path) return null;
    let node = state.layout;
    for (let i = 0; node && i < path.length; i++) node = node[path[i]];
    return node && node.props ? node : null;
  }

  function seqOf(child) {
    const raw = child && child.props && child.props["data-seq"];
    const seq = raw === undefined || raw === null ? NaN : Number(raw);
    return isNaN(seq) ? null : seq;
  }

  function withAge(child, now) {
    // A server-rendered feed line gets its "… ago" refreshed, as the server's own rebuild did.
    const stamp = child.props["data-ts"];
    const kids = child.props.children;
    if (!stamp || !Array.isArray(kids) || !kids[1] || !kids[1].props) return child;
    const text = " " + ago(stamp, now) + " ";
    if (kids[1].props.children === text) return child;
    const age = Object.assign({}, kids[1], { props: Object.assign({}, kids[1].props, { children: text }) });
    const props = Object.assign({}, child.props, { children: [kids[0], age].concat(kids.slice(2)) });
    return Object.assign({}, child, { props: props });
  }

  const VIEWS = {
    alerts: {
      size: FEED_SIZE,
      wants: function (frame) { return frame.type === "maintenance_alert"; },
      build: feedItem,
      keep: function () { return false; }, // "No alerts yet." goes with the first alert
      refresh: withAge,
    },
    "wall-ticker": {
      size: TICKER_SIZE,
      wants: function () { return true; },
      build: tickerItem,
      keep: function (child) { return /ticker-label/.test((child.props && child.props.className) || ""); },
      refresh: function (child) { return child; },
    },
  };

  /* The container's items and the frames seen here, newest seq first, bounded. */
  function merge(id) {
    const view = VIEWS[id];
    const node = view && layoutOf(id);
    if (!node) return false;
    const now = Date.now();
    const old = [].concat(node.props.children || []);
    const head = [];
    const bySeq = new Map();
    old.forEach(function (child) {
      const seq = seqOf(child);
      if (seq !== null) bySeq.set(seq, child);
      else if (child && typeof child === "object" && view.keep(child)) head.push(child);
    });
    const before = Array.from(bySeq.keys()).join(",");
    let added = false;
    alerts.recent.forEach(function (frame) {
      if (!view.wants(frame) || bySeq.has(frame.seq)) return;
      bySeq.set(frame.seq, view.build(frame, now));
      added = true;
    });
    if (!added) return false;
    const seqs = Array.from(bySeq.keys()).sort(function (a, b) { return b - a; }).slice(0, view.size);
    if (seqs.join(",") === before) return false;
    const items = seqs.map(function (seq) { return view.refresh(bySeq.get(seq), now); });
    window.dash_clientside.set_props(id, { children: head.concat(items) });
    return true;
  }

  function toast(frame) {
    const data = frame.data || {};
    const setProps = window.dash_clientside.set_props;
    setProps("critical-toast", {
      children: el("Div", {
        children: [
          el("Strong", { children: "#" + data.ticket_id + " " + (data.title || "") }),
          el("Div", { children: machineOf(data) }),
        ],
      }),
      is_open: true,
    });
    setProps("critical-alert", { data: frame }); // the wall's takeover (assets/wall.js)
  }

  /* An alert frame, from the socket tap or from assets/live.js; each seq counts once. */
  function accept(frame, live) {
    if (!frame || !ALERT_TYPES[frame.type] || typeof frame.seq !== "number") return false;
    if (!window.dash_clientside || !window.dash_clientside.set_props) return false;
    const recent = alerts.recent;
    if (recent.some(function (f) { return f.seq === frame.seq; })) return false;
    if (recent.length >= FEED_SIZE && frame.seq < recent[recent.length - 1].seq) return false;
    if (live) {
      const t = Date.parse(frame.timestamp || "");
      if (!isNaN(t)) alerts.skew = Date.now() - t;
    }
    let at = 0;
    while (at < recent.length && recent[at].seq > frame.seq) at++;
    recent.splice(at, 0, frame);
    if (recent.length > FEED_SIZE) recent.length = FEED_SIZE;
    Object.keys(VIEWS).forEach(merge);
    if (frame.type === "maintenance_alert" && (frame.data || {}).priority === "critical") toast(frame);
    return true;
  }

  function onRaw(message) {
    if (typeof message.data !== "string" || message.data.indexOf("_alert") === -1) return;
    let frame;
    try {
      frame = JSON.parse(message.data);
    } catch (err) {
      return; // assets/live.js reports it
    }
    accept(frame, true);
  }

  // The tap: the page's own socket (the url assets/live.js built) also hands its alert frames
  // here directly. Other sockets on the page are left alone.
  const Native = window.WebSocket;
  if (Native && !Native.milldashTapped) {
    const Tapped = class extends Native {
      constructor(...args) {
        super(...args);
        const live = window.milldash && window.milldash.state;
        if (live && live.url && String(args[0]) === live.url) this.addEventListener("message", onRaw);
      }
    };
    Tapped.milldashTapped = true;
    window.WebSocket = Tapped;
  }

  window.milldash = Object.assign(window.milldash || {}, {
    alerts: { state: alerts, accept: accept, merge: merge, feedItem: feedItem, tickerItem: tickerItem },
  });

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.alerts = {
    // After the server rendered a container: put back what it did not know yet.
    feed: function () {
      merge("alerts");
      return window.dash_clientside.no_update;
    },
    ticker: function () {
      merge("wall-ticker");
      return window.dash_clientside.no_update;
    },
  };
})();
