/* The maintenance hub on a phone: the ticket grid (#tickets-grid) shows one card per ticket
   instead of nine narrow columns, with one-tap status moves. The words on a card come from the
   server (row.shown, built with components/wording.py); this file only lays them out. */
(function () {
  "use strict";
  var PHONE = "(max-width: 575.98px)";
  var GRID = "tickets-grid";
  var CARD_ROW_HEIGHT = 148;
  var funcs = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});

  // A button that acts on a native click and stops it there: the grid listens for row clicks
  // (which open the drawer) before React's own handlers would see the event.
  function TapButton(props) {
    var ref = React.useRef(null);
    var act = props.act;
    React.useEffect(function () {
      var el = ref.current;
      if (!el) return undefined;
      function onClick(event) {
        event.stopPropagation();
        event.preventDefault();
        if (!el.disabled) act();
      }
      el.addEventListener("click", onClick);
      return function () { el.removeEventListener("click", onClick); };
    }, [act]);
    return React.createElement("button", {
      ref: ref, type: "button", className: props.className, disabled: props.disabled,
      "data-move": props.move, title: props.title,
    }, props.children);
  }

  funcs.TicketCard = function (props) {
    var row = props.data;
    if (!row || !row.shown) return React.createElement("div", {className: "ticket-card loading"}, "…");
    var shown = row.shown;
    var moves = (shown.moves || []).map(function (move) {
      return React.createElement(TapButton, {
        key: move.to,
        move: move.to,
        className: "card-move btn btn-sm " + (move.to === "cancelled" ? "btn-outline-danger" : "btn-outline-light"),
        disabled: !shown.can_write,
        title: shown.can_write ? "" : "Sign in as an operator to change tickets",
        act: function () { props.setData({ticket_id: row.id, to: move.to, version: row.version}); },
      }, move.label);
    });
    return React.createElement("div", {className: "ticket-card", "data-ticket-id": String(row.id)}, [
      React.createElement("div", {key: "t", className: "card-title"}, "#" + row.id + " " + row.title),
      React.createElement("div", {key: "m", className: "card-meta"}, [
        React.createElement("span", {key: "p", className: "prio-cell prio-" + row.priority}, shown.priority),
        React.createElement("span", {key: "mc"}, row.machine_name),
        React.createElement("span", {key: "s", className: "card-status"}, shown.status),
        React.createElement("span", {key: "a"}, shown.opened),
        React.createElement("span", {key: "as", className: "card-assignee"}, shown.assignee),
      ]),
      React.createElement("div", {key: "b", className: "card-moves"}, moves),
    ]);
  };

  // Desktop columns or the phone's card column, whichever the screen wants.
  function fit(api, again) {
    var phone = window.matchMedia(PHONE).matches;
    var columns = api.getColumns() || [];
    var wide = columns.map(function (c) { return c.getColId(); }).filter(function (id) { return id !== "card"; });
    api.setColumnsVisible(wide, !phone);
    api.setColumnsVisible(["card"], phone);
    api.setGridOption("headerHeight", phone ? 0 : undefined);
    api.setGridOption("rowHeight", phone ? CARD_ROW_HEIGHT : undefined);
    // The infinite row model keeps the height its rows were made with: fetch them again.
    if (again && api.purgeInfiniteCache) api.purgeInfiniteCache();
    var el = document.getElementById(GRID);
    if (el) el.setAttribute("data-layout", phone ? "cards" : "grid");
  }

  function watch() {
    var el = document.getElementById(GRID);
    if (!el || el.getAttribute("data-layout-watch") || !window.dash_ag_grid) return;
    el.setAttribute("data-layout-watch", "1");
    window.dash_ag_grid.getApiAsync(GRID).then(function (api) {
      fit(api);
      var media = window.matchMedia(PHONE);
      media.addEventListener("change", function refit() {
        if (!el.isConnected || (api.isDestroyed && api.isDestroyed())) {
          media.removeEventListener("change", refit);  // that page is gone
          return;
        }
        fit(api, true);
      });
    }).catch(function () { el.removeAttribute("data-layout-watch"); });
  }

  // The hub is rendered by the router, again on every visit: look for a new grid then.
  new MutationObserver(watch).observe(document.documentElement, {childList: true, subtree: true});
})();
