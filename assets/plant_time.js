/*
 * The plant's clock in the browser: every time a person sees is on the wall clock of the
 * plant's IANA zone, whatever zone the browser runs in. The zone comes from the page: the last
 * element marked data-plant-zone (the page head's zone note, the wall's zone beside its clock,
 * the routed page; components/plant_head.py). The formats are components/wording.py
 * PlantClock's: time() "14:05", stamp() "2026-03-08 14:05".
 */
(function () {
  "use strict";

  const formats = {};
  let lastZone = null;

  /* The plant's zone as the page says it (the last one seen while none is on the page). */
  function zone() {
    const marked = document.querySelectorAll("[data-plant-zone]");
    const name = marked.length ? marked[marked.length - 1].getAttribute("data-plant-zone") : null;
    if (name) lastZone = name;
    return lastZone;
  }

  function formatter(options) {
    const name = zone() || "UTC";
    const key = name + "|" + Object.keys(options).join(",");
    if (!formats[key]) {
      const base = { hourCycle: "h23" };
      try {
        formats[key] = new Intl.DateTimeFormat("en-GB", Object.assign(base, options, { timeZone: name }));
      } catch (err) {
        // An unknown zone in this browser's data: UTC, rather than the browser's own zone.
        formats[key] = new Intl.DateTimeFormat("en-GB", Object.assign(base, options, { timeZone: "UTC" }));
      }
    }
    return formats[key];
  }

  function parts(ms, options) {
    const out = {};
    formatter(options).formatToParts(new Date(ms)).forEach(function (p) { out[p.type] = p.value; });
    return out;
  }

  const HM = { hour: "2-digit", minute: "2-digit" };
  const HMS = { hour: "2-digit", minute: "2-digit", second: "2-digit" };
  const YMDHM = { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" };

  /* "14:05" (or "14:05:09" with seconds) on the plant's clock, for a time in ms. */
  function time(ms, seconds) {
    const p = parts(ms, seconds ? HMS : HM);
    return p.hour + ":" + p.minute + (seconds ? ":" + p.second : "");
  }

  /* "2026-03-08 14:05" on the plant's clock, for a time in ms. */
  function stamp(ms) {
    const p = parts(ms, YMDHM);
    return p.year + "-" + p.month + "-" + p.day + " " + p.hour + ":" + p.minute;
  }

  window.milldash = Object.assign(window.milldash || {}, {
    plantTime: { zone: zone, time: time, stamp: stamp },
  });
})();
