/*
 * Alerts drawn from the socket frame itself: the maintenance page's feed (#alerts), the
 * wall's ticker (#wall-ticker) and the critical toast, without the tick -> callback -> query
 * -> render round trip.
 *
 * Every alert frame (maintenance_alert, system_alert) reaches accept(): at once from a tap on
 * the page's own socket (the WebSocket component's `message` prop merges bursts, so a Dash
 * callback does not see every frame), and again from assets/live.js (replay, the polling
 * fallback); each seq counts once. Markup: assets/alert_markup.js, the same as the server's.
 *
 * Two steps, so a slow renderer never delays the first sight of an alert:
 *   paint   at once: DOM nodes (marked data-painted) put among the container's items, and
 *           items beyond the container's size hidden;
 *   commit  after the next frame is drawn: the painted nodes go, and set_props hands the
 *           merged list to Dash, so React owns the DOM again (a set_props render of the wall
 *           costs ~200 ms of main thread on a slow CPU).
 * The server's render stays the source of truth: commit merges what the server rendered with
 * the frames seen here (newest seq first, bounded to the container's size), and runs again
 * after each server render (a clientside callback on the container's children), so a
 * response computed before a frame arrived cannot drop it.
 */
(function () {
  "use strict";

  const FEED_SIZE = 50; // callbacks/maintenance.py FEED_SIZE
  const TICKER_SIZE = 3; // components/wall_tiles.py TICKER_SIZE
  const ALERT_TYPES = { maintenance_alert: true, system_alert: true };

  const alerts = {
    recent: [], // alert frames seen on this page, newest seq first, at most FEED_SIZE
    skew: 0, // browser clock minus server clock, from the newest live frame (ms)
    hidden: [], // server-rendered nodes hidden by a paint, shown again on commit
    toast: null, // the critical frame the next commit opens the toast for
    commitPending: false,
  };

  function markup() {
    return window.milldash.alertMarkup;
  }

  function serverNow() {
    return Date.now() - alerts.skew;
  }

  const VIEWS = {
    alerts: {
      size: FEED_SIZE,
      wants: function (frame) { return frame.type === "maintenance_alert"; },
      build: function (frame, now) { return markup().feedItem(frame, now); },
      keep: function () { return false; }, // "No alerts yet." goes with the first alert
      refresh: function (child, now) { return markup().withAge(child, now); },
    },
    "wall-ticker": {
      size: TICKER_SIZE,
      wants: function () { return true; },
      build: function (frame, now) { return markup().tickerItem(frame, now); },
      keep: function (child) { return /ticker-label/.test((child.props && child.props.className) || ""); },
      refresh: function (child) { return child; },
    },
  };

  // -- paint: plain DOM, at once ----------------------------------------------------------

  function hide(node) {
    if (node.hidden) return;
    node.hidden = true;
    alerts.hidden.push(node);
  }

  function paint(id, frame) {
    const view = VIEWS[id];
    const root = document.getElementById(id);
    if (!root || !view.wants(frame) || root.querySelector('[data-seq="' + frame.seq + '"]')) return;
    const items = Array.from(root.children).filter(function (c) {
      return !c.hidden && c.hasAttribute("data-seq");
    });
    const before = items.find(function (c) { return Number(c.getAttribute("data-seq")) < frame.seq; });
    if (!before && items.length >= view.size) return; // older than everything shown
    const node = markup().toDom(view.build(frame, serverNow()));
    node.setAttribute("data-painted", "true");
    if (before) root.insertBefore(node, before);
    else root.appendChild(node);
    const children = Array.from(root.children);
    children.forEach(function (c) {
      if (!c.hasAttribute("data-seq") && !/ticker-label/.test(c.className)) hide(c); // "none yet"
    });
    children.filter(function (c) { return !c.hidden && c.hasAttribute("data-seq"); })
      .slice(view.size).forEach(hide);
  }

  function unpaint() {
    document.querySelectorAll("[data-painted]").forEach(function (node) { node.remove(); });
    alerts.hidden.forEach(function (node) { node.hidden = false; });
    alerts.hidden = [];
  }

  // -- commit: through Dash, so React owns the DOM ------------------------------------------

  function layoutOf(id) {
    // The component as the renderer holds it (what set_props patches).
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

  /* The container's items and the frames seen here, newest seq first, bounded. */
  function merge(id) {
    const view = VIEWS[id];
    const node = layoutOf(id);
    if (!node) return;
    const now = serverNow();
    const head = [];
    const bySeq = new Map();
    [].concat(node.props.children || []).forEach(function (child) {
      const seq = seqOf(child);
      if (seq !== null) bySeq.set(seq, child);
      else if (child && typeof child === "object" && view.keep(child)) head.push(child);
    });
    const before = Array.from(bySeq.keys()).join(",");
    alerts.recent.forEach(function (frame) {
      if (view.wants(frame) && !bySeq.has(frame.seq)) bySeq.set(frame.seq, view.build(frame, now));
    });
    const seqs = Array.from(bySeq.keys()).sort(function (a, b) { return b - a; }).slice(0, view.size);
    if (seqs.join(",") === before) return;
    const items = seqs.map(function (seq) { return view.refresh(bySeq.get(seq), now); });
    window.dash_clientside.set_props(id, { children: head.concat(items) });
  }

  function commit() {
    alerts.commitPending = false;
    const setProps = window.dash_clientside.set_props;
    const apply = function () {
      unpaint(); // in the same task as React's render: no frame without the alert
      Object.keys(VIEWS).forEach(merge);
      const frame = alerts.toast;
      alerts.toast = null;
      if (frame) {
        setProps("critical-toast", { children: markup().toastBody(frame), is_open: true });
        setProps("critical-alert", { data: frame }); // the wall's takeover (assets/wall.js)
      }
    };
    if (window.ReactDOM && window.ReactDOM.flushSync) window.ReactDOM.flushSync(apply);
    else apply();
  }

  function scheduleCommit() {
    // After the paint has been drawn: a frame, then a task.
    if (alerts.commitPending) return;
    alerts.commitPending = true;
    const later = function () { setTimeout(commit, 0); };
    if (document.hidden || !window.requestAnimationFrame) later();
    else window.requestAnimationFrame(later);
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
    Object.keys(VIEWS).forEach(function (id) { paint(id, frame); });
    if (frame.type === "maintenance_alert" && (frame.data || {}).priority === "critical") {
      alerts.toast = frame;
    }
    scheduleCommit();
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

  // The page's own socket (tapped by assets/live.js) hands its alert frames here directly.
  window.milldash.tap(function (socket) { socket.addEventListener("message", onRaw); });

  window.milldash = Object.assign(window.milldash || {}, {
    alerts: { state: alerts, accept: accept, commit: commit },
  });

  // After the server rendered a container: put back what that render did not know yet.
  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.alerts = {
    feed: function () {
      if (!alerts.commitPending) commit();
      return window.dash_clientside.no_update;
    },
    ticker: function () {
      if (!alerts.commitPending) commit();
      return window.dash_clientside.no_update;
    },
  };
})();
