/*
 * Keeps Dash's undo/redo history short on every page.
 *
 * Dash's renderer records every input prop change that did not come from a callback
 * response (the socket's `message`, the tick stores set through set_props) in
 * store.history.past, for undo/redo that nothing here uses. That array only grows (~160
 * bytes and one O(n) copy per frame): months of events on a wall would exhaust the tab. Keep
 * its tail short. The array is replaced on each record, so trimming the current one in
 * place is invisible to the reducers; this runs on every page, not only the wall.
 */
(function () {
  "use strict";

  const HISTORY_KEEP = 20;

  function trimDashHistory() {
    (window.dash_stores || []).forEach(function (store) {
      const state = store && store.getState && store.getState();
      const history = state && state.history;
      if (!history) return;
      ["past", "future"].forEach(function (key) {
        const list = history[key];
        if (Array.isArray(list) && list.length > HISTORY_KEEP) {
          list.splice(0, list.length - HISTORY_KEEP);
        }
      });
    });
  }

  setInterval(trimDashHistory, 1000);
  window.milldash = Object.assign(window.milldash || {}, { trimDashHistory: trimDashHistory });
})();
