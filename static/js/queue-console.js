/* The counter (queues/staff/console.html): one-handed on a phone, keyboard on a PC.

   Without JavaScript every button is a plain form POST answered by a redirect. With it, the
   forms are sent with fetch (Accept: application/json) and the panel is replaced in place by the
   HTML the server returns; the panel is also refreshed every 3 s so that several phones at one
   counter stay in step. Every form carries the day's version: a double tap or a press made on
   an old screen is refused by the server (409 "stale") and shown, then the panel is refreshed.
   User-facing strings come from the page (data- attributes): this file holds none. */
(function () {
  "use strict";

  var root = document.getElementById("q-console");
  if (!root || !window.fetch || !window.FormData) return;

  var panelBox = document.getElementById("q-panel");
  var msg = document.getElementById("q-msg");
  var FRAGMENT = root.getAttribute("data-fragment");
  var POLL_MS = 3000;
  var TIMEOUT_MS = 10000;
  var busy = false;
  var msgTimer = null;
  var deadlines = [];  // [button, time in ms when skipping is allowed]
  var gen = 0;         // bumped by every press: a poll sent before it is out of date

  function panel() { return panelBox.querySelector(".q-panel"); }
  function stamp() { var p = panel(); return p ? p.getAttribute("data-stamp") : ""; }

  // ---- messages --------------------------------------------------------------------------

  function say(text, kind) {
    clearTimeout(msgTimer);
    msg.textContent = text;
    msg.className = "q-msg flash " + kind;
    // A success fades quickly so the next one is noticed; a refusal stays long enough to read.
    msgTimer = setTimeout(function () {
      msg.className = "q-msg";
      msg.textContent = "";
    }, kind === "success" ? 4000 : 15000);
  }

  function buzz(pattern) {
    if (navigator.vibrate) { try { navigator.vibrate(pattern); } catch (e) { /* not allowed */ } }
  }

  // ---- the panel -------------------------------------------------------------------------

  function replace(html) {
    panelBox.innerHTML = html;
    armCountdowns();
  }

  function armCountdowns() {
    var now = Date.now();
    deadlines = [];
    panelBox.querySelectorAll("[data-skip-in]").forEach(function (b) {
      deadlines.push([b, now + 1000 * parseInt(b.getAttribute("data-skip-in"), 10)]);
    });
    tick();
  }

  function tick() {
    var now = Date.now();
    deadlines = deadlines.filter(function (d) {
      var left = Math.ceil((d[1] - now) / 1000);
      var label = d[0].querySelector(".q-countdown");
      if (left <= 0) {
        d[0].disabled = busy;
        d[0].removeAttribute("data-skip-in");
        if (label) label.remove();
        return false;
      }
      if (label) label.textContent = Math.floor(left / 60) + ":" + ("0" + (left % 60)).slice(-2);
      return true;
    });
  }

  function refresh() {
    var mine = gen;
    return fetch(FRAGMENT + "&v=" + encodeURIComponent(stamp()), {
      credentials: "same-origin",
      headers: { "Accept": "text/html" }
    }).then(function (resp) {
      // Signed out meanwhile (the answer is the sign-in page): show that page, not a panel.
      if (resp.redirected) { window.location.reload(); return; }
      if (resp.status === 200) return resp.text().then(function (html) { if (!busy && mine === gen) replace(html); });
    }, function () { /* offline: the next poll tries again */ });
  }

  // ---- pressing --------------------------------------------------------------------------

  function setBusy(on) {
    busy = on;
    root.classList.toggle("busy", on);
    panelBox.querySelectorAll("button").forEach(function (b) {
      if (on) { b.setAttribute("data-was-disabled", b.disabled ? "1" : ""); b.disabled = true; }
      else { b.disabled = b.getAttribute("data-was-disabled") === "1" || b.hasAttribute("data-skip-in"); }
    });
  }

  function send(form) {
    if (busy) return;
    var body = new FormData(form);
    gen++;
    setBusy(true);
    var abort = window.AbortController ? new AbortController() : null;
    var giveUp = abort ? setTimeout(function () { abort.abort(); }, TIMEOUT_MS) : null;
    fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      signal: abort ? abort.signal : undefined,
      headers: { "Accept": "application/json" },
      body: body
    })
      .then(function (resp) {
        return resp.json().then(
          function (data) { return { status: resp.status, data: data }; },
          function () { return { status: resp.status, data: {} }; }
        );
      })
      .then(function (r) {
        clearTimeout(giveUp);
        setBusy(false);
        if (r.data.ok) {
          say(r.data.message, "success");
          buzz(40);
          replace(r.data.state.html);
          return;
        }
        var err = r.data.error;
        say(err && err.message ? err.message : root.getAttribute("data-failed"), "error");
        buzz([90, 60, 90]);
        return refresh();
      }, function () {
        clearTimeout(giveUp);
        setBusy(false);
        say(root.getAttribute("data-offline"), "error");
        buzz([90, 60, 90]);
      });
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!panelBox.contains(form)) return;
    e.preventDefault();
    send(form);
  });

  // ---- keyboard --------------------------------------------------------------------------

  var KEYS = { " ": "enter", "Enter": "enter", "n": "n", "r": "r", "s": "s", "k": "k", "u": "u" };

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || e.repeat || e.isComposing) return;
    var t = e.target;
    // Typing in a field, or Space / Enter on a focused button or link, is not a shortcut.
    if (t && t.closest && t.closest("input, textarea, select, button, a, summary, [contenteditable]")) return;
    var key = KEYS[e.key.length === 1 ? e.key.toLowerCase() : e.key];
    if (!key) return;
    // The first form with this key is the latest number called (the panel lists it first).
    var form = panelBox.querySelector('form[data-key="' + key + '"]');
    e.preventDefault();
    if (!form) return;
    // A disabled button (skip before the grace time, nothing to undo) is still sent: the
    // server's refusal says why, which a silent key press would not.
    send(form);
  });

  // ---- keeping in step -------------------------------------------------------------------

  armCountdowns();
  setInterval(tick, 1000);
  setInterval(function () {
    if (!busy && document.visibilityState !== "hidden") refresh();
  }, POLL_MS);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") refresh();
  });
})();
