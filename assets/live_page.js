/*
 * What a page shows about its own freshness, on every page (assets/live.js owns the socket).
 *
 * Stale data: while the socket is away (and no poll keeps the page up to date), or when an
 * open socket has been silent for SILENT_MS, #page gets data-stale="true" (dimmed by
 * assets/app.css) and #stale-note says "No live data for N s", counting up; the next welcome
 * clears both. On the wall, #page follows the wall's own stale state (assets/wall.js), which
 * has its own pill.
 *
 * Wrong page: the routed content carries the path it was rendered for (data-path, see
 * callbacks/routing.py). When it differs from the URL and no routing request is under way,
 * the request failed (the server was away): the old content is hidden behind a message, and
 * the route is asked again (the route-retry store) on the next welcome, or on the backoff
 * schedule while connected.
 */
(function () {
  "use strict";

  const SILENT_MS = 30000; // an open socket heard nothing (no event, no pong) this long
  const POLL_FRESH_MS = 7000; // a poll this recent keeps the page up to date
  const ROUTE_GRACE_MS = 800; // a route this long without a request under way has failed
  const CHECK_EVERY_MS = 500;

  const view = {
    stale: null, // the data-stale shown
    note: null, // the stale note shown
    message: null, // the route message shown
    routeFailedAt: null, // since when the page shown has not matched the URL, nothing pending
    routeRetries: 0, // route retries since the page last matched
    retryAt: null,
    retryN: 0, // the route-retry store's value
    observer: null,
  };

  function live() {
    return (window.milldash && window.milldash.state) || {};
  }

  function setProps(id, props) {
    if (window.dash_clientside && window.dash_clientside.set_props) {
      window.dash_clientside.set_props(id, props);
    }
  }

  function normal(pathname) {
    return (pathname || "/").replace(/\/+$/, "") || "/";
  }

  function ageText(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + " s";
    if (s < 3600) return Math.floor(s / 60) + " min";
    return Math.floor(s / 3600) + " h " + String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  }

  // Since when the page's data has not been live, or null while it is.
  function staleSince(now) {
    const s = live();
    const heard = s.lastHeardAt || null;
    if (s.connected) return heard !== null && now - heard > SILENT_MS ? heard : null;
    if (s.downSince === null || s.downSince === undefined) return null; // first connect
    if (s.pollOkAt && now - s.pollOkAt < POLL_FRESH_MS) return null; // polling keeps up
    return heard !== null ? heard : s.downSince;
  }

  function updateStale(now) {
    const wall = window.milldash && window.milldash.wall;
    const onWall = !!document.getElementById("wall");
    const since = onWall ? null : staleSince(now);
    const stale = onWall ? !!(wall && wall.state && wall.state.stale) : since !== null;
    let note = null;
    if (since !== null) {
      note = "No live data for " + ageText(now - since);
      if (!live().socketOpen) note += " · reconnecting…";
    }
    if (stale !== view.stale) {
      view.stale = stale;
      setProps("page", { "data-stale": stale ? "true" : "false" });
    }
    if (note !== view.note) {
      view.note = note;
      setProps("stale-note", { children: note || "", hidden: note === null });
    }
  }

  function dashState() {
    const store = (window.dash_stores || [])[0];
    return store && store.getState ? store.getState() : null;
  }

  // Whether Dash has a request for the page container requested, queued or running.
  function routingPending(state) {
    const callbacks = (state && state.callbacks) || {};
    return Object.keys(callbacks).some(function (key) {
      const list = callbacks[key];
      if (key === "stored" || key === "completed" || !Array.isArray(list)) return false;
      return list.some(function (cb) {
        const output = cb && cb.callback && cb.callback.output;
        return typeof output === "string" && output.indexOf("page.children") !== -1;
      });
    });
  }

  function pageTitle(path) {
    const root = document.getElementById("app-root");
    try {
      const titles = JSON.parse((root && root.dataset.pageTitles) || "{}");
      return titles[path] || path;
    } catch (err) {
      return path;
    }
  }

  function showRoute(message) {
    if (message === view.message) return;
    view.message = message;
    setProps("route-message", { children: message || "", hidden: message === null });
    document.body.setAttribute("data-route", message === null ? "ok" : "failed");
  }

  // Whether any callback is requested, queued or running. A page re-rendered under one of its
  // own callbacks in flight can break Dash's renderer (plotly/dash#2689): a route retry waits
  // until they are done (after an outage they failed, so it does not wait long).
  function callbacksPending(state) {
    const callbacks = (state && state.callbacks) || {};
    return Object.keys(callbacks).some(function (key) {
      const list = callbacks[key];
      return key !== "stored" && key !== "completed" && Array.isArray(list) && list.length > 0;
    });
  }

  function retryRoute() {
    if (callbacksPending(dashState())) {
      view.retryAt = Date.now(); // the next check asks again
      return;
    }
    view.retryN += 1;
    view.routeRetries += 1;
    view.retryAt = null;
    setProps("route-retry", { data: view.retryN });
  }

  function updateRoute(now) {
    const state = dashState();
    if (!state || state.appLifecycle !== "HYDRATED") return;
    const wanted = normal(window.location.pathname);
    const routedEl = document.querySelector("#page > .routed-page");
    const shown = routedEl ? routedEl.getAttribute("data-path") : null;
    if (shown === wanted || routingPending(state)) {
      view.routeFailedAt = null;
      if (shown === wanted) {
        view.routeRetries = 0;
        view.retryAt = null;
        showRoute(null);
      }
      return;
    }
    if (view.routeFailedAt === null) view.routeFailedAt = now;
    if (now - view.routeFailedAt < ROUTE_GRACE_MS) return;
    const s = live();
    const reachable = s.connected || (s.pollOkAt && now - s.pollOkAt < POLL_FRESH_MS);
    const title = pageTitle(wanted);
    showRoute(reachable ? "Could not load " + title + ". Retrying…"
      : "Could not load " + title + ": the server is not reachable. Retrying…");
    if (!reachable) return; // the next welcome asks again (onReconnected)
    if (view.retryAt === null) {
      view.retryAt = now + window.milldash.backoffDelay(view.routeRetries + 1);
    } else if (now >= view.retryAt) {
      retryRoute();
    }
  }

  function onReconnected() {
    // Back after an outage: a page that failed meanwhile is asked for again at once.
    const routedEl = document.querySelector("#page > .routed-page");
    const shown = routedEl ? routedEl.getAttribute("data-path") : null;
    const state = dashState();
    if (shown !== normal(window.location.pathname) && !routingPending(state)) retryRoute();
    updateStale(Date.now());
  }

  function updateHeader(now) {
    const s = live();
    const age = document.getElementById("connection-age");
    if (age) age.textContent = s.lastEventAt ? ageText(now - s.lastEventAt) + " ago" : "no events yet";
    const clock = document.getElementById("plant-clock");
    // The plant's clock (assets/plant_time.js); blank until a page has said the zone.
    const plant = window.milldash.plantTime;
    if (clock) clock.textContent = plant && plant.zone() ? plant.time(now, true) : "";
  }

  // The sign-in link returns to the page being looked at, whichever that is by now.
  function signInTarget(event) {
    const link = event.target && event.target.closest && event.target.closest("#sign-in-link");
    if (!link) return;
    const here = window.location.pathname + window.location.search;
    link.setAttribute("href", "/login?next=" + encodeURIComponent(here));
  }
  ["pointerover", "focusin", "click"].forEach(function (type) {
    document.addEventListener(type, signInTarget, true);
  });

  function watchPage() {
    // A page arriving clears the message at once, not on the next check.
    const container = document.getElementById("page");
    if (view.observer || !container || !window.MutationObserver) return;
    view.observer = new MutationObserver(function () { updateRoute(Date.now()); });
    view.observer.observe(container, { childList: true });
  }

  let lastHeader = 0;
  setInterval(function () {
    const now = Date.now();
    watchPage();
    updateStale(now);
    updateRoute(now);
    if (now - lastHeader >= 1000) {
      lastHeader = now;
      updateHeader(now);
    }
  }, CHECK_EVERY_MS);

  window.milldash = Object.assign(window.milldash || {}, {
    onReconnected: onReconnected,
    page: { view: view, staleSince: staleSince },
  });

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.live = Object.assign({}, window.dash_clientside.live, {
    refreshGrid: function (tickData) {
      if (!tickData || !window.dash_ag_grid) return window.dash_clientside.no_update;
      window.dash_ag_grid.getApiAsync("tickets-grid").then(function (api) {
        if (api && api.refreshInfiniteCache) api.refreshInfiniteCache();
      }).catch(function () { /* grid not mounted */ });
      return window.dash_clientside.no_update;
    },
  });
})();
