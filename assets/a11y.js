/*
 * Keyboard and screen-reader access around dcc.Dropdown and dcc.DatePickerSingle (Dash 4.4).
 *
 * Dash renders each dropdown as a hidden, focusable "focus target" input (aria-hidden, yet in
 * the tab order) beside the real trigger button, which it takes out of the tab order. A
 * keyboard then lands on an element screen readers are told does not exist (axe:
 * aria-hidden-focus). Swap them: the labelled trigger button takes the tab stop (Enter or Space
 * opens the list), the hidden input leaves it. Applied to dropdowns as they appear.
 *
 * The date picker's wrapper carries aria-expanded and aria-haspopup without a role, which no
 * element without one may carry (axe: aria-allowed-attr): it is the group of the date's input
 * and the button that opens the calendar, so it gets role="group".
 */
(function () {
  "use strict";

  function fix(root) {
    root.querySelectorAll(".dash-dropdown-focus-target").forEach(function (input) {
      if (input.getAttribute("tabindex") !== "-1") input.setAttribute("tabindex", "-1");
      const wrapper = input.parentElement;
      const button = wrapper && wrapper.querySelector("button.dash-dropdown");
      if (button && button.getAttribute("tabindex") !== "0" && !button.disabled) {
        button.setAttribute("tabindex", "0");
      }
    });
    root.querySelectorAll(".dash-datepicker-input-wrapper:not([role])").forEach(function (el) {
      el.setAttribute("role", "group");
    });
  }

  function start() {
    fix(document);
    new MutationObserver(function () { fix(document); }).observe(document.body, {
      childList: true,
      subtree: true,
      attributes: true,
      attributeFilter: ["tabindex"],
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
