// Progressive behaviour of the NRN pages. Everything works without it; with it, htmx
// requests carry the CSRF token and a few controls get nicer. No inline script anywhere:
// the Content-Security-Policy forbids it.
(function () {
  "use strict";
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }
  // htmx sends the session's synchroniser token as a header on every request.
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = csrfToken();
  });
  // A failed htmx request says so in the live region instead of silently doing nothing.
  document.addEventListener("htmx:responseError", function (event) {
    var region = document.getElementById("live-status");
    if (region) {
      var status = event.detail.xhr ? event.detail.xhr.status : "";
      region.textContent = status === 429
        ? "Too many requests: please wait a moment and try again."
        : "That did not work (" + status + "). Please try again.";
    }
  });
  document.addEventListener("htmx:sendError", function () {
    var region = document.getElementById("live-status");
    if (region) { region.textContent = "The server could not be reached. Check your connection and try again."; }
  });
  // Buttons with data-confirm ask before submitting their form.
  document.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    var message = submitter && submitter.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
  // Sending a form twice must make one command: each form carries an idempotency key drawn with
  // it. Pages are never cached (no-store), so Back draws the form again with a new key: put back
  // the key of the form last sent from this page, and Back-and-resend repeats the same command
  // (the service answers with the first result instead of acting twice).
  function keySlot(form) {
    var index = Array.prototype.indexOf.call(document.forms, form);
    return "nrn-form-key:" + location.pathname + location.search + "|" + (form.getAttribute("action") || "") + "|" + index;
  }
  document.addEventListener("submit", function (event) {
    var input = event.target.querySelector && event.target.querySelector('input[name="idempotency_key"]');
    if (event.defaultPrevented || !input) { return; }
    try { window.sessionStorage.setItem(keySlot(event.target), input.value); } catch (e) { /* storage off */ }
  });
  function restoreKeys() {
    var nav = window.performance && performance.getEntriesByType ? performance.getEntriesByType("navigation")[0] : null;
    if (!nav || nav.type !== "back_forward") { return; }
    Array.prototype.forEach.call(document.forms, function (form) {
      var input = form.querySelector('input[name="idempotency_key"]');
      var kept = null;
      try { kept = input && window.sessionStorage.getItem(keySlot(form)); } catch (e) { kept = null; }
      if (kept) { input.value = kept; }
    });
  }
  document.addEventListener("DOMContentLoaded", restoreKeys);
  // Character counters for textareas with maxlength, announced politely.
  function wireCounters(root) {
    root.querySelectorAll("textarea[maxlength][data-counter]").forEach(function (area) {
      var out = document.getElementById(area.getAttribute("data-counter"));
      if (!out) { return; }
      var update = function () {
        out.textContent = (area.maxLength - area.value.length) + " characters left";
      };
      area.addEventListener("input", update);
      update();
    });
  }
  document.addEventListener("DOMContentLoaded", function () { wireCounters(document); });
  document.addEventListener("htmx:afterSwap", function (event) { wireCounters(event.target); });
})();
