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

  // --- City type-ahead: the ARIA 1.2 combobox pattern (list autocomplete) -----------------------
  // Markup (templates/partials/city_combobox.html): an <input role="combobox"> whose options htmx
  // fetches into a role="listbox" as one types; a hidden input holds the chosen city's id. Without
  // JavaScript the same input is a plain search field and the server answers with the matches.
  function comboParts(input) {
    var box = input.closest("[data-combobox]");
    return {
      box: box,
      list: document.getElementById(input.getAttribute("aria-controls")),
      hidden: box ? box.querySelector('input[type="hidden"][data-combobox-value]') : null,
      status: box ? box.querySelector("[data-combobox-status]") : null
    };
  }
  function comboOptions(parts) {
    return parts.list ? Array.prototype.slice.call(parts.list.querySelectorAll('[role="option"]')) : [];
  }
  function comboOpen(input, open) {
    var parts = comboParts(input);
    var options = comboOptions(parts);
    var show = open && options.length > 0;
    input.setAttribute("aria-expanded", show ? "true" : "false");
    if (parts.list) { parts.list.hidden = !show; }
    if (!show) { input.removeAttribute("aria-activedescendant"); }
  }
  function comboActivate(input, option) {
    var parts = comboParts(input);
    comboOptions(parts).forEach(function (o) { o.setAttribute("aria-selected", o === option ? "true" : "false"); });
    if (option) {
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    }
  }
  function comboChoose(input, option) {
    var parts = comboParts(input);
    input.value = option.getAttribute("data-label") || option.textContent.trim();
    if (parts.hidden) {
      parts.hidden.value = option.getAttribute("data-value") || "";
      parts.hidden.dispatchEvent(new Event("change", { bubbles: true }));
    }
    if (parts.status) { parts.status.textContent = input.value + " chosen."; }
    comboOpen(input, false);
    if (parts.box && parts.box.hasAttribute("data-combobox-submit") && input.form) {
      // the eligibility page answers as soon as a city is chosen
      if (input.form.requestSubmit) { input.form.requestSubmit(); } else { input.form.submit(); }
    }
  }
  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches('input[role="combobox"]')) { return; }
    var parts = comboParts(input);
    var options = comboOptions(parts);
    var current = document.getElementById(input.getAttribute("aria-activedescendant") || "");
    var index = options.indexOf(current);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!options.length) { return; }
      event.preventDefault();
      comboOpen(input, true);
      var next = event.key === "ArrowDown" ? (index + 1) % options.length : (index <= 0 ? options.length - 1 : index - 1);
      if (event.altKey && event.key === "ArrowDown") { return; }
      comboActivate(input, options[next]);
    } else if (event.key === "Enter") {
      if (current && input.getAttribute("aria-expanded") === "true") {
        event.preventDefault();
        comboChoose(input, current);
      }
    } else if (event.key === "Escape") {
      if (input.getAttribute("aria-expanded") === "true") { event.preventDefault(); comboOpen(input, false); }
      else { input.value = ""; if (parts.hidden) { parts.hidden.value = ""; } }
    }
  });
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches('input[role="combobox"]')) { return; }
    // typing again un-chooses the city until one is picked
    var parts = comboParts(input);
    if (parts.hidden) { parts.hidden.value = ""; }
  });
  document.addEventListener("click", function (event) {
    var option = event.target.closest && event.target.closest('[role="option"]');
    if (option) {
      var list = option.closest('[role="listbox"]');
      var input = list && document.querySelector('input[aria-controls="' + list.id + '"]');
      if (input) { event.preventDefault(); comboChoose(input, option); input.focus(); }
      return;
    }
    document.querySelectorAll('input[role="combobox"][aria-expanded="true"]').forEach(function (input) {
      var parts = comboParts(input);
      if (!parts.box || !parts.box.contains(event.target)) { comboOpen(input, false); }
    });
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var list = event.target;
    if (!list.matches || !list.matches('[role="listbox"]')) { return; }
    var input = document.querySelector('input[aria-controls="' + list.id + '"]');
    if (!input) { return; }
    var parts = comboParts(input);
    var count = comboOptions(parts).length;
    comboOpen(input, document.activeElement === input);
    if (parts.status) {
      parts.status.textContent = count === 0 ? "No matching city." : count + (count === 1 ? " city matches." : " cities match.") +
        " Use the up and down arrows to choose.";
    }
  });

  // --- Local drafts of long forms: what is typed survives a closed tab or a lost connection -------
  // A form with data-draft="name" keeps its text fields in localStorage (this browser only) while
  // typing, puts them back into empty fields when drawn again, and forgets them once sent.
  function draftKey(form) { return "nrn-draft:" + form.getAttribute("data-draft"); }
  function draftFields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && !el.disabled && (el.tagName === "TEXTAREA" || (el.tagName === "INPUT" && el.type === "text"));
    });
  }
  document.addEventListener("input", function (event) {
    var form = event.target.form;
    if (!form || !form.hasAttribute("data-draft")) { return; }
    var draft = {};
    draftFields(form).forEach(function (el) { if (el.value) { draft[el.name] = el.value; } });
    try { window.localStorage.setItem(draftKey(form), JSON.stringify({ at: Date.now(), fields: draft })); } catch (e) { /* storage off */ }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.hasAttribute || !form.hasAttribute("data-draft")) { return; }
    try { window.localStorage.removeItem(draftKey(form)); } catch (e) { /* storage off */ }
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-draft]").forEach(function (form) {
      var kept = null;
      try { kept = JSON.parse(window.localStorage.getItem(draftKey(form)) || "null"); } catch (e) { kept = null; }
      if (!kept || !kept.fields) { return; }
      var restored = 0;
      draftFields(form).forEach(function (el) {
        if (!el.value && kept.fields[el.name]) { el.value = kept.fields[el.name]; restored += 1; }
      });
      var note = form.querySelector("[data-draft-note]");
      if (restored && note) {
        note.hidden = false;
      }
    });
  });
})();

// A "Print" button (the check-in list): the browser's print dialog, no inline script needed.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-print]");
  if (button) window.print();
});
