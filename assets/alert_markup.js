/*
 * The markup of an alert built from its socket frame, for assets/live_alerts.js: a line of
 * the maintenance feed (as components/alert_feed.py renders it), an item of the wall's ticker
 * (components/wall.py ticker_item), times on the plant's clock (assets/plant_time.js) and the critical toast's body (the same text the feed
 * shows). Each is a Dash component tree (what set_props takes); toDom() turns such a tree into
 * DOM nodes for the first paint. Frame text only ever becomes text nodes (createTextNode),
 * never markup; class names are reduced to safe characters.
 */
(function () {
  "use strict";

  // components/theme.py PRIORITY_COLORS and components/wall_tiles.py LEVEL_COLORS
  const PRIORITY_COLORS = { low: "#868e96", medium: "#1c7ed6", high: "#f59f00", critical: "#e03131" };
  const LEVEL_COLORS = { info: "#1c7ed6", warning: "#f59f00", critical: "#e03131" };
  const LABELS = { in_progress: "in progress", on_hold: "on hold" }; // components/wording.py
  const TAGS = { Div: "div", Span: "span", Strong: "strong" };

  function el(type, props) {
    return { type: type, namespace: "dash_html_components", props: props };
  }

  function duration(seconds) {
    // components/wording.py duration(): at most two units
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

  // Seconds from an ISO stamp to `now` (ms, on the server's clock), or null.
  function ageSeconds(stamp, now) {
    const t = Date.parse(stamp || "");
    return isNaN(t) ? null : (now - t) / 1000;
  }

  // The moment of an ISO stamp on the plant's clock (assets/plant_time.js), or null.
  function plantMoment(stamp, format) {
    const t = Date.parse(stamp || "");
    return isNaN(t) ? null : window.milldash.plantTime[format](t);
  }

  function ago(stamp, now) {
    // components/wording.py ago()
    const s = ageSeconds(stamp, now);
    if (s === null) return "";
    return s < 30 ? "just now" : duration(s) + " ago";
  }

  function word(code) {
    return code ? LABELS[code] || String(code).replace(/_/g, " ") : "–";
  }

  // components/alert_feed.py: the age's tooltip is the moment on the plant's clock.
  function withTitle(props, title) {
    if (title) props.title = title;
    return props;
  }

  function cls(code) {
    return String(code).replace(/[^A-Za-z0-9_-]/g, "");
  }

  function machineOf(data) {
    return data.machine_name || "machine " + data.machine_id;
  }

  function headline(data) {
    return "#" + data.ticket_id + " " + (data.title || "");
  }

  /* A line of the maintenance feed. */
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
        el("Span", withTitle({ children: " " + ago(frame.timestamp, now) + " ", className: "muted" },
          plantMoment(frame.timestamp, "stamp"))),
        el("Strong", { children: headline(data) }),
        el("Span", { children: " — " + machineOf(data), className: "muted" }),
      ],
    });
  }

  /* An item of the wall's ticker: a ticket's alert or a plant-wide message. */
  function tickerItem(frame, now) {
    const data = frame.data || {};
    const system = frame.type === "system_alert";
    const badge = system ? data.level || "info" : data.priority || "low";
    const color = system ? LEVEL_COLORS[badge] || "#1c7ed6" : PRIORITY_COLORS[badge] || "#868e96";
    const s = ageSeconds(frame.timestamp, now);
    const top = [
      el("Span", { children: system ? "Plant message" : machineOf(data), className: "ticker-head" }),
      el("Span", { children: plantMoment(frame.timestamp, "time") || "", className: "ticker-time" }),
      el("Span", { children: s === null || s < 60 ? "just now" : duration(s), className: "ticker-age" }),
    ];
    return el("Div", {
      children: [
        el("Span", { children: String(badge), className: "prio-badge", style: { background: color } }),
        el("Div", {
          children: [
            el("Div", { children: top, className: "ticker-top" }),
            el("Div", { children: system ? data.message || "" : headline(data), className: "ticker-text" }),
          ],
          className: "ticker-body",
        }),
      ],
      className: "ticker-item level-" + cls(badge),
      "data-seq": String(frame.seq),
    });
  }

  /* The critical toast's body. */
  function toastBody(frame) {
    const data = frame.data || {};
    return el("Div", {
      children: [el("Strong", { children: headline(data) }), el("Div", { children: machineOf(data) })],
    });
  }

  /* A server-rendered feed line with its "… ago" brought up to `now` (from its data-ts). */
  function withAge(child, now) {
    const stamp = child.props["data-ts"];
    const kids = child.props.children;
    if (!stamp || !Array.isArray(kids) || !kids[1] || !kids[1].props) return child;
    const text = " " + ago(stamp, now) + " ";
    if (kids[1].props.children === text) return child;
    const age = Object.assign({}, kids[1], { props: Object.assign({}, kids[1].props, { children: text }) });
    const props = Object.assign({}, child.props, { children: [kids[0], age].concat(kids.slice(2)) });
    return Object.assign({}, child, { props: props });
  }

  /* DOM nodes for a component tree made by the builders above (their props only). */
  function toDom(component) {
    if (component === null || component === undefined) return document.createTextNode("");
    if (typeof component !== "object") return document.createTextNode(String(component));
    const props = component.props || {};
    const node = document.createElement(TAGS[component.type] || "div");
    Object.keys(props).forEach(function (key) {
      const value = props[key];
      if (key === "className") node.className = value;
      else if (key === "title") node.setAttribute("title", String(value));
      else if (key === "style") Object.assign(node.style, value);
      else if (key.indexOf("data-") === 0) node.setAttribute(key, String(value));
    });
    [].concat(props.children === undefined ? [] : props.children).forEach(function (child) {
      node.appendChild(toDom(child));
    });
    return node;
  }

  window.milldash = Object.assign(window.milldash || {}, {
    alertMarkup: {
      feedItem: feedItem,
      tickerItem: tickerItem,
      toastBody: toastBody,
      withAge: withAge,
      toDom: toDom,
      ago: ago,
      duration: duration,
    },
  });
})();
