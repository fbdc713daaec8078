// Keeps an envelope's page current without a reload: re-reads its live fragment (the portal's own rows, never
// DocuSign) every few seconds until the envelope is final, and swaps it in. A script file, not inline: the CSP
// (portal/middleware.py) allows scripts from 'self' only.
(function () {
  "use strict";
  var GIVE_UP_MS = 15 * 60 * 1000; // a page left open stops asking after a quarter of an hour
  var started = Date.now();

  function current() { return document.getElementById("envelope-live"); }

  function schedule() {
    var live = current();
    if (!live || live.dataset.final === "true" || Date.now() - started > GIVE_UP_MS) { return; }
    window.setTimeout(poll, parseInt(live.dataset.interval, 10) || 2000);
  }

  function poll() {
    var live = current();
    if (!live) { return; }
    fetch(live.dataset.liveUrl, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html !== null) {
          var holder = document.createElement("template");
          holder.innerHTML = html.trim();
          var next = holder.content.firstElementChild;
          if (next && next.id === "envelope-live") { current().replaceWith(next); }
        }
      })
      .catch(function () { /* offline for a moment: the next poll tries again */ })
      .then(schedule);
  }

  schedule();
}());
