/*
 * Presence in the ticket drawer: "Also open by dora, emil" in #ticket-presence.
 *
 * The ticket the drawer shows is read from the page: #ticket-drawer open and the id its body
 * carries (#ticket-detail [data-ticket-id]). Whenever that changes (a row opens another
 * ticket, the drawer closes, the page changes) it is announced on the page's own socket,
 * {"type":"presence","ticket_id":N} (null: none), and again on every new socket after its
 * welcome (a new socket starts with nothing announced). Only a socket whose welcome says
 * `"presence": true` announces (a signed-in person who may read tickets).
 *
 * The server sends {"type":"presence","ticket_id":N,"viewers":[names]} (the others, not
 * oneself) whenever the viewers of N change; while no socket is open the names are unknown
 * and not shown. Frames are read from the socket itself (assets/live.js taps it): the
 * component's `message` prop merges bursts and could hide the latest one. Names are people's
 * input: they only ever go into the page as text.
 */
(function () {
  "use strict";

  const presence = {
    socket: null, // the page's latest socket
    allowed: false, // its welcome said this session may announce
    announced: null, // the ticket announced on it (null: none)
    shown: null, // the ticket the drawer shows (null: none)
    viewers: [], // the others on `shown`, from the latest frame about it
  };

  function drawerTicket() {
    // Closing, the drawer loses `show` at once and leaves the page after its transition.
    const drawer = document.getElementById("ticket-drawer");
    if (!drawer || !drawer.classList.contains("show")) return null;
    const body = document.querySelector("#ticket-detail [data-ticket-id]");
    const id = body ? Number(body.getAttribute("data-ticket-id")) : NaN;
    return Number.isInteger(id) && id > 0 ? id : null;
  }

  function render() {
    const el = document.getElementById("ticket-presence");
    if (!el) return;
    const names = presence.shown === null ? [] : presence.viewers;
    const text = names.length ? "Also open by " + names.join(", ") : "";
    if (el.textContent !== text) el.textContent = text;
    if (el.hidden !== !text) el.hidden = !text;
  }

  function announce() {
    const socket = presence.socket;
    if (!socket || socket.readyState !== 1 || !presence.allowed) return;
    if (presence.announced === presence.shown) return;
    presence.announced = presence.shown;
    socket.send(JSON.stringify({ type: "presence", ticket_id: presence.shown }));
  }

  function check() {
    const shown = drawerTicket();
    if (shown !== presence.shown) {
      presence.shown = shown;
      presence.viewers = []; // the names were about the ticket shown before
      announce();
    }
    render(); // also fills a drawer the renderer has just mounted again
  }

  function onFrame(frame) {
    if (frame.type === "welcome") {
      presence.allowed = frame.presence === true;
      announce();
    } else if (frame.type === "presence" && frame.ticket_id === presence.shown) {
      const viewers = Array.isArray(frame.viewers) ? frame.viewers : [];
      presence.viewers = viewers.filter(function (v) { return typeof v === "string"; });
      render();
    }
  }

  function onRaw(message) {
    const text = message.data;
    if (typeof text !== "string" || text.indexOf('"presence"') === -1) return; // cheap filter
    let frame;
    try {
      frame = JSON.parse(text);
    } catch (err) {
      return; // assets/live.js reports it
    }
    if (message.target === presence.socket) onFrame(frame);
  }

  window.milldash.tap(function (socket) {
    presence.socket = socket;
    presence.allowed = false;
    presence.announced = null;
    socket.addEventListener("message", onRaw);
    socket.addEventListener("close", function () {
      if (socket !== presence.socket) return; // a page change already opened the next one
      presence.viewers = []; // unknown until the next socket is welcomed and announces again
      render();
    });
  });

  new MutationObserver(check).observe(document.documentElement, {
    childList: true,
    subtree: true,
    attributes: true,
    attributeFilter: ["class", "data-ticket-id"],
  });

  window.milldash.presence = { state: presence };
})();
