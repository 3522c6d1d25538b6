/*
 * The shop-floor wall (/wall): clock (on the plant's zone), data age and staleness, the alert banner and the
 * optional scheduled soft reload. Everything here is a fixed set of timers and a few scalars:
 * nothing grows however long the wall runs.
 *
 * Data age = time since the last frame the socket delivered (an event, or the pong of the
 * application ping that assets/live.js sends every 15 s), read from window.milldash.state.
 * After STALE_MS without one, #wall-updated gets data-stale="true" and the body is greyed.
 */
(function () {
  "use strict";

  const STALE_MS = 30000;
  const BANNER_MS = 8000;
  const RELOAD_RETRY_MS = 60000;

  const wall = {
    mountedAt: null, // when #wall appeared (the age base before the first frame)
    text: null,
    stale: null,
    clock: null,
    bannerTimer: null,
    reloadAt: null,
  };

  function setProps(id, props) {
    if (window.dash_clientside && window.dash_clientside.set_props) {
      window.dash_clientside.set_props(id, props);
    }
  }

  function live() {
    return (window.milldash && window.milldash.state) || {};
  }

  function lastHeard() {
    const s = live();
    const t = Math.max(s.lastHeardAt || 0, s.lastEventAt || 0);
    return t > 0 ? t : null;
  }

  function ageText(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + " s";
    if (s < 3600) return Math.floor(s / 60) + " min";
    return Math.floor(s / 3600) + " h " + String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  }

  function isStale(now) {
    const base = lastHeard() || wall.mountedAt || now;
    return now - base > STALE_MS;
  }

  function updateAge(now) {
    const heard = lastHeard();
    const base = heard || wall.mountedAt;
    const stale = now - base > STALE_MS;
    let text;
    if (!heard) text = stale ? "NO DATA · not connected" : "connecting…";
    else if (stale) text = "STALE · no data " + ageText(now - heard);
    else text = "updated " + ageText(now - heard) + " ago";
    if (stale && !live().socketOpen) text += " · reconnecting";
    if (text !== wall.text || stale !== wall.stale) {
      wall.text = text;
      wall.stale = stale;
      setProps("wall-updated", { children: text, "data-stale": stale ? "true" : "false" });
      document.body.setAttribute("data-wall-stale", stale ? "true" : "false");
    }
  }

  function updateClock(now) {
    // The plant's wall clock (its zone is shown beside it), not the browser's.
    const text = window.milldash.plantTime.time(now);
    if (text !== wall.clock) {
      wall.clock = text;
      setProps("wall-clock", { children: text });
    }
  }

  function reloadHours() {
    const raw = new URLSearchParams(window.location.search).get("reload_hours");
    const hours = raw === null ? NaN : parseFloat(raw);
    return hours > 0 ? hours : null;
  }

  function maybeReload(now) {
    // A safety net for browsers left open for months: only while connected and fresh, so a
    // wall never reloads into an error page while the server is away.
    if (wall.reloadAt === null || now < wall.reloadAt) return;
    if (live().socketOpen && !isStale(now)) {
      window.location.reload();
    } else {
      wall.reloadAt = now + RELOAD_RETRY_MS;
    }
  }

  function tick() {
    const now = Date.now();
    const onWall = !!document.getElementById("wall");
    document.body.classList.toggle("wall-mode", onWall);
    if (!onWall) {
      wall.mountedAt = null;
      wall.text = wall.stale = wall.clock = null;
      wall.reloadAt = null;
      return;
    }
    if (wall.mountedAt === null) {
      wall.mountedAt = now;
      const hours = reloadHours();
      wall.reloadAt = hours ? now + hours * 3600 * 1000 : null;
    }
    updateAge(now);
    updateClock(now);
    maybeReload(now);
  }

  function machineName(data) {
    if (data.machine_name) return data.machine_name;
    const cell = document.querySelector('[data-machine-id="' + data.machine_id + '"] .cell-name');
    return cell ? cell.textContent : "machine " + data.machine_id;
  }

  function hideBanner() {
    wall.bannerTimer = null;
    setProps("wall-banner", { className: "wall-banner" });
  }

  /* Clientside callback: a critical maintenance alert (or a plant-wide system alert) takes
     the whole screen for BANNER_MS, then the wall returns. */
  function banner(critical, system) {
    const noUpdate = window.dash_clientside.no_update;
    const ctx = window.dash_clientside.callback_context;
    const trigger = ctx && ctx.triggered && ctx.triggered.length ? ctx.triggered[0].prop_id : "";
    const frame = trigger.indexOf("system-alert") === 0 ? system : critical;
    if (!frame || !frame.data || !document.getElementById("wall-banner")) {
      return [noUpdate, noUpdate, noUpdate, noUpdate];
    }
    const data = frame.data;
    let kind, title, detail, level;
    if (frame.type === "system_alert") {
      level = data.level || "info";
      kind = "Message from the plant · " + level;
      title = data.message || "";
      detail = "";
    } else {
      level = "critical";
      kind = "Critical alert · ticket #" + data.ticket_id;
      title = machineName(data);
      detail = data.title || "";
    }
    if (wall.bannerTimer) clearTimeout(wall.bannerTimer);
    wall.bannerTimer = setTimeout(hideBanner, BANNER_MS);
    return ["wall-banner active level-" + level, kind, title, detail];
  }

  setInterval(tick, 1000);

  window.milldash = Object.assign(window.milldash || {}, {
    wall: { state: wall, isStale: isStale },
  });
  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    wall: { banner: banner },
  });
})();
