/* Live queue pages (ticket page, public day page, big-screen board): keep the numbers current.

   The server renders the whole page right; this file only updates it in place. Each state is
   exactly services.public_state(): {v, serving, next, issued, total, left, waiting, served, spt,
   closed, goods, come_when} and, when following a number, {number, status, ahead, eta_min,
   come_now}.

   Hooks in the markup (no user-facing strings here: they come from #queue-live-strings):
   - [data-live] root: data-stream (SSE URL), data-state (JSON URL for polling), data-goods-url
     (the page's goods fragment), data-reload-at (ISO time: reload once then, e.g. the draw),
     data-reload-when-done (the ticket page: reload when the number leaves the queue).
   - [data-k="name"]: text from the state ("now" is the latest number called; "next" and
     "serving" are lists). [data-flash]: marked .q-changed for a moment when its text changes.
   - [data-if="cond cond"]: shown when every condition holds; a condition is `key` (true, or a
     non-empty list), `key=value[,value]` or `key>n` (a list's length), each may start with `!`.
     Conditions on keys the state lacks leave the element as rendered.
   - [data-goods]: replaced by the fragment when the goods board changes ([count, sold out]).
   - [data-live-mode]: "live" / "updating every 5 s". [data-alerts]: the sound+vibration
     button. [data-clock]: HH:MM.

   Transport: EventSource first (`event: state`, id = version). Polling every 5 s when the
   browser has no EventSource, when nothing arrives within 6 s of opening (a proxy buffering the
   stream) or after 3 errors within a minute; while polling, the stream is tried again every
   2 minutes. */
(function () {
  "use strict";

  var root = document.querySelector("[data-live]");
  if (!root || !window.JSON) return;

  var S = {};
  var strings = document.getElementById("queue-live-strings");
  if (strings) S = JSON.parse(strings.textContent);
  var initial = document.getElementById("queue-live-state");

  var STREAM_URL = root.getAttribute("data-stream");
  var STATE_URL = root.getAttribute("data-state");
  var GOODS_URL = root.getAttribute("data-goods-url");
  var POLL_MS = 5000;
  var FIRST_MESSAGE_MS = 6000;
  var ERRORS_MAX = 3;
  var ERRORS_WINDOW_MS = 60000;
  var RETRY_STREAM_MS = 120000;
  var ALERT_KEY = "shouwang.queue.alerts";

  var last = initial ? JSON.parse(initial.textContent) : null;
  var es = null;
  var firstTimer = null;
  var pollTimer = null;
  var retryTimer = null;
  var errors = [];
  var lastMessageAt = 0;
  var reloading = false;
  var baseTitle = document.title;

  // ---- rendering ---------------------------------------------------------------------------

  function text(v) {
    return v === null || v === undefined || v === "" ? "\u2014" : String(v);
  }

  function value(s, k) {
    if (k === "now") return s.serving && s.serving.length ? s.serving[0] : null;
    return s[k];
  }

  function setList(el, items) {
    var wanted = (items || []).join(" ");
    if (el.getAttribute("data-shown") === wanted) return;
    el.setAttribute("data-shown", wanted);
    if (el.tagName === "OL" || el.tagName === "UL") {
      while (el.firstChild) el.removeChild(el.firstChild);
      (items && items.length ? items : ["\u2014"]).forEach(function (n) {
        var li = document.createElement("li");
        li.textContent = String(n);
        el.appendChild(li);
      });
    } else {
      el.textContent = items && items.length ? items.join(" \u00b7 ") : "\u2014";
    }
  }

  function setText(el, t) {
    if (el.textContent === t) return;
    el.textContent = t;
    if (el.hasAttribute("data-flash")) {
      el.classList.remove("q-changed");
      void el.offsetWidth; // restart the animation
      el.classList.add("q-changed");
    }
  }

  function holds(s, cond) {
    var neg = cond.charAt(0) === "!";
    if (neg) cond = cond.slice(1);
    var m = /^([a-z_]+)(?:([=>])(.*))?$/.exec(cond);
    if (!m || !(m[1] in s)) return null; // unknown here: leave as rendered
    var v = s[m[1]];
    var ok;
    if (m[2] === "=") ok = m[3].split(",").indexOf(String(v)) >= 0;
    else if (m[2] === ">") ok = (Array.isArray(v) ? v.length : Number(v)) > Number(m[3]);
    else ok = Array.isArray(v) ? v.length > 0 : !!v;
    return neg ? !ok : ok;
  }

  function apply(s) {
    var prev = last;
    if (prev && typeof prev.v === "number" && s.v < prev.v) return; // an older state
    last = s;
    root.querySelectorAll("[data-k]").forEach(function (el) {
      var k = el.getAttribute("data-k");
      var v = value(s, k);
      if (k === "next" || k === "serving") setList(el, v);
      else if (v !== undefined || k === "now") setText(el, text(v));
    });
    root.querySelectorAll("[data-if]").forEach(function (el) {
      var show = null;
      el.getAttribute("data-if").split(/\s+/).forEach(function (c) {
        if (!c) return;
        var h = holds(s, c);
        if (h === null) return;
        show = show === null ? h : show && h;
      });
      if (show !== null) el.hidden = !show;
    });
    root.setAttribute("data-status", s.status || "");
    root.classList.toggle("is-come-now", !!s.come_now);
    if (prev) changed(prev, s);
  }

  function changed(prev, s) {
    if ("number" in s) {
      var nowTurn = s.status === "called" && prev.status !== "called";
      var nowCome = s.come_now && !prev.come_now;
      if (nowTurn || nowCome) alertNow();
      document.title = s.come_now ? text(S.come_now) + " \u00b7 " + baseTitle : baseTitle;
      // The number left the queue (served, skipped for good, cancelled): the server knows
      // which; one reload shows it.
      if (root.hasAttribute("data-reload-when-done") && s.status === "done" &&
          (prev.status === "waiting" || prev.status === "called")) {
        reloadSoon(3000);
      }
    }
    var g1 = JSON.stringify(prev.goods || null);
    var g2 = JSON.stringify(s.goods || null);
    if (g1 !== g2) refreshGoods();
  }

  function refreshGoods() {
    var box = root.querySelector("[data-goods]");
    if (!box || !GOODS_URL || !window.fetch) return;
    // Spread a thousand phones over a few seconds instead of one burst.
    setTimeout(function () {
      fetch(GOODS_URL, { cache: "no-store", credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null) box.innerHTML = html; })
        .catch(function () {});
    }, Math.random() * 4000);
  }

  function reloadSoon(spread) {
    if (reloading) return;
    reloading = true;
    setTimeout(function () { window.location.reload(); }, 500 + Math.random() * spread);
  }

  // ---- sound and vibration -----------------------------------------------------------------

  var audio = null;
  var alertsOn = false;
  var alertButton = root.querySelector("[data-alerts]");

  function stored() {
    try { return window.localStorage.getItem(ALERT_KEY) === "1"; } catch (e) { return false; }
  }

  function store(on) {
    try { window.localStorage.setItem(ALERT_KEY, on ? "1" : "0"); } catch (e) { /* private mode */ }
  }

  function unlockAudio() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    if (!audio) audio = new Ctx();
    if (audio.state === "suspended" && audio.resume) audio.resume();
  }

  function beep() {
    if (!audio) return;
    var t = audio.currentTime;
    [0, 0.35].forEach(function (offset) {
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.type = "sine";
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, t + offset);
      gain.gain.exponentialRampToValueAtTime(0.5, t + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + offset + 0.25);
      osc.connect(gain);
      gain.connect(audio.destination);
      osc.start(t + offset);
      osc.stop(t + offset + 0.3);
    });
  }

  function alertNow() {
    if (!alertsOn) return;
    if (navigator.vibrate) navigator.vibrate([300, 150, 300]);
    beep();
  }

  function showAlerts() {
    if (!alertButton) return;
    alertButton.setAttribute("aria-pressed", alertsOn ? "true" : "false");
    alertButton.textContent = text(alertsOn ? S.alerts_on : S.alerts_off);
  }

  if (alertButton) {
    alertButton.hidden = false;
    alertsOn = stored();
    showAlerts();
    alertButton.addEventListener("click", function () {
      alertsOn = !alertsOn;
      store(alertsOn);
      if (alertsOn) {
        unlockAudio(); // a user gesture: browsers allow sound from here on
        if (navigator.vibrate) navigator.vibrate(80);
        beep();
      }
      showAlerts();
    });
    if (alertsOn) {
      // Remembered from an earlier visit: sound needs one touch on this page to start.
      var wake = function () {
        unlockAudio();
        document.removeEventListener("pointerdown", wake, true);
        document.removeEventListener("keydown", wake, true);
      };
      document.addEventListener("pointerdown", wake, true);
      document.addEventListener("keydown", wake, true);
    }
  }

  // ---- transport ---------------------------------------------------------------------------

  var modeEl = root.querySelector("[data-live-mode]");

  function mode(name) {
    root.setAttribute("data-live-state", name);
    if (modeEl) modeEl.textContent = text(S[name]);
  }

  function closeStream() {
    if (firstTimer) { clearTimeout(firstTimer); firstTimer = null; }
    if (es) { es.close(); es = null; }
  }

  function openStream() {
    closeStream();
    if (!window.EventSource || !STREAM_URL) { startPolling(); return; }
    var got = false;
    try {
      es = new EventSource(STREAM_URL);
    } catch (e) {
      es = null;
      startPolling();
      return;
    }
    if (!pollTimer) mode("connecting");
    firstTimer = setTimeout(function () {
      firstTimer = null;
      if (!got) { closeStream(); startPolling(); } // buffered by a proxy: poll instead
    }, FIRST_MESSAGE_MS);
    es.addEventListener("state", function (ev) {
      got = true;
      lastMessageAt = Date.now();
      if (firstTimer) { clearTimeout(firstTimer); firstTimer = null; }
      stopPolling();
      mode("live");
      try { apply(JSON.parse(ev.data)); } catch (e) { /* a broken message: wait for the next */ }
    });
    es.onerror = function () {
      var now = Date.now();
      errors.push(now);
      errors = errors.filter(function (t) { return now - t < ERRORS_WINDOW_MS; });
      if (!es || es.readyState === 2 || errors.length >= ERRORS_MAX) {
        // Closed for good (not an event stream) or failing again and again: poll.
        closeStream();
        startPolling();
      } else if (!pollTimer && now - lastMessageAt > 15000) {
        // EventSource reconnects by itself; a server that answers one state and closes (the
        // WSGI fallback, `retry: 5000`) lands here every few seconds and is not "offline".
        mode("offline");
      }
    };
  }

  function poll() {
    if (!window.fetch || !STATE_URL) return;
    fetch(STATE_URL, { cache: "no-store", credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (s) { if (pollTimer) mode("poll"); apply(s); })
      .catch(function () { if (pollTimer) mode("offline"); });
  }

  function startPolling() {
    if (!pollTimer) {
      mode("poll");
      poll();
      pollTimer = setInterval(poll, POLL_MS);
    }
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = setTimeout(function () { retryTimer = null; openStream(); }, RETRY_STREAM_MS);
  }

  function stopPolling() {
    if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
    if (retryTimer) { clearTimeout(retryTimer); retryTimer = null; }
  }

  // ---- clock and timed reload --------------------------------------------------------------

  var clock = root.querySelector("[data-clock]");
  if (clock) {
    var fmt = null;
    try {
      fmt = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
        hour: "2-digit", minute: "2-digit", hour12: false,
        timeZone: root.getAttribute("data-tz") || undefined
      });
    } catch (e) { fmt = null; }
    var tick = function () {
      var d = new Date();
      clock.textContent = fmt ? fmt.format(d)
        : ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
    };
    tick();
    setInterval(tick, 1000);
  }

  var reloadAt = Date.parse(root.getAttribute("data-reload-at") || "");
  if (!isNaN(reloadAt)) {
    // The draw: everyone's page asks within half a minute after it, not in the same second.
    var wait = Math.max(reloadAt - Date.now(), 0) + 1000;
    if (wait < 7 * 86400000) {
      setTimeout(function () { reloadSoon(30000); }, wait);
    }
  }

  if (last) apply(last);
  openStream();
})();
