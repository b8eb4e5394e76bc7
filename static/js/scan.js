/* The scanner page: a keyboard-wedge scanner (or a person) types into the input, or the phone
   camera reads the QR; both post the text to /api/v1/passes/resolve and the answer is shown big.
   Every user-facing string comes from the page (#scan-strings, <template> elements): this file
   holds none. Without JavaScript the form is a plain GET answered by the server. */
(function () {
  "use strict";

  var root = document.getElementById("scan");
  if (!root || !window.fetch || !window.JSON) return;

  var S = JSON.parse(document.getElementById("scan-strings").textContent);
  var form = document.getElementById("scan-form");
  var input = document.getElementById("scan-token");
  var result = document.getElementById("scan-result");
  var recent = document.getElementById("scan-recent");
  var recentList = document.getElementById("scan-recent-list");
  var camButton = document.getElementById("scan-camera");
  var camNote = document.getElementById("scan-camera-note");
  var videoBox = document.getElementById("scan-video");
  var video = document.getElementById("scan-video-el");
  var stopButton = document.getElementById("scan-stop");
  var soundButton = document.getElementById("scan-sound");

  var API = root.getAttribute("data-api");
  var CSRF = root.getAttribute("data-csrf");
  var JSQR_URL = root.getAttribute("data-jsqr");
  var RECENT_MAX = 10;
  var TIMEOUT_MS = 10000;
  var coarse = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;

  var sent = 0;       // submissions so far; each answer knows its number
  var shown = 0;      // the number of the answer in the big panel: a late answer never hides
                      // a newer one
  var slowTimer = null;

  // ---- submitting ------------------------------------------------------------------------

  function submit(raw, source) {
    var mine = ++sent;
    clearTimeout(slowTimer);
    slowTimer = setTimeout(function () {
      if (shown < mine) showChecking();
    }, 350);
    // A gate with a weak signal: give up after 10 s and say so, rather than wait for ever.
    var abort = window.AbortController ? new AbortController() : null;
    var giveUp = abort ? setTimeout(function () { abort.abort(); }, TIMEOUT_MS) : null;
    return fetch(API, {
      method: "POST",
      credentials: "same-origin",
      signal: abort ? abort.signal : undefined,
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": CSRF
      },
      body: JSON.stringify({ token: raw })
    })
      .then(function (resp) {
        return resp.json().then(
          function (body) { return { status: resp.status, body: body }; },
          function () { return { status: resp.status, body: {} }; }
        );
      })
      .then(outcomeOf, function () {
        return { kind: "error", title: S.offline_title, message: S.offline };
      })
      .then(function (outcome) {
        clearTimeout(giveUp);
        outcome.at = new Date();
        if (mine > shown) {
          shown = mine;
          if (mine === sent) clearTimeout(slowTimer);
          render(outcome);
        }
        remember(outcome);
        feedback(outcome);
        if (source === "keyboard" || !coarse) input.focus();
      });
  }

  function outcomeOf(r) {
    var err = (r.body && r.body.error) || null;
    if (r.status === 200) return { kind: "ok", holder: r.body };
    if (r.status === 422 && err) {
      return { kind: "refused", code: err.code, title: S.titles[err.code] || S.refused,
               message: err.message };
    }
    if (r.status === 401) return { kind: "error", title: S.offline_title, message: S.signed_out };
    // A CSRF refusal: the page is older than the session (signed in again in another tab).
    if (r.status === 403 && (!err || err.code === "http_error")) {
      return { kind: "error", title: S.offline_title, message: S.stale };
    }
    return { kind: "error", title: S.offline_title, message: (err && err.message) || S.failed };
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var raw = input.value;
    input.value = "";
    input.focus();
    if (raw.trim()) submit(raw, "keyboard");
  });

  // A scan while the focus is elsewhere (a tap on the page, a closed camera) still lands.
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (t === input || e.ctrlKey || e.metaKey || e.altKey || !e.key || e.key.length !== 1) return;
    if (t && /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(t.tagName)) return;
    if (t && t.isContentEditable) return;
    input.focus();
  }, true);

  // ---- showing ----------------------------------------------------------------------------

  function clone(id) {
    return document.getElementById(id).content.cloneNode(true);
  }

  function hhmmss(d) {
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds());
  }

  function tag(text, cls) {
    var s = document.createElement("span");
    s.className = cls ? "tag " + cls : "tag";
    s.textContent = text;
    return s;
  }

  function showChecking() {
    result.className = "scan-result is-checking";
    var p = document.createElement("p");
    p.className = "ready";
    p.textContent = S.checking;
    result.replaceChildren(p);
  }

  function render(o) {
    var frag;
    if (o.kind === "ok") {
      var h = o.holder;
      frag = clone("scan-tpl-ok");
      frag.querySelector(".holder-name").textContent = h.name_masked;
      frag.querySelector(".holder-place").textContent = h.place;
      var meta = frag.querySelector(".holder-meta");
      if (h.age !== null && h.age !== undefined) {
        var age = document.createElement("span");
        age.className = "holder-age";
        age.textContent = S.age.replace("%(age)s", h.age);
        meta.appendChild(age);
      }
      if (h.presence && h.presence !== "present") {
        meta.appendChild(tag(S.presence[h.presence] || h.presence, "warn"));
      }
      (h.tags || []).forEach(function (t) { meta.appendChild(tag(t)); });
    } else {
      frag = clone(o.kind === "refused" ? "scan-tpl-refused" : "scan-tpl-error");
      frag.querySelector(".verdict-text").textContent = o.title;
      var msg = frag.querySelector(".refusal");
      msg.textContent = o.message;
      if (o.code) msg.setAttribute("data-code", o.code);
    }
    var at = frag.querySelector(".at");
    at.textContent = hhmmss(o.at);
    at.setAttribute("datetime", o.at.toISOString());
    result.className = "scan-result " + (o.kind === "ok" ? "is-ok" : "is-" + o.kind);
    result.replaceChildren(frag);
    // Restart the flash, so the same person scanned twice still visibly gets a new answer.
    result.classList.remove("flash-in");
    void result.offsetWidth;
    result.classList.add("flash-in");
    var box = result.getBoundingClientRect();
    if (box.bottom > window.innerHeight || box.top < 0) {
      result.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
  }

  function remember(o) {
    var li = document.createElement("li");
    li.className = o.kind === "ok" ? "ok" : o.kind;
    var time = document.createElement("time");
    time.textContent = hhmmss(o.at);
    var mark = document.createElement("span");
    mark.className = "mark";
    mark.setAttribute("aria-hidden", "true");
    mark.textContent = o.kind === "ok" ? "✓" : o.kind === "refused" ? "✗" : "!";
    var what = document.createElement("span");
    what.className = "what";
    var b = document.createElement("b");
    b.textContent = o.kind === "ok" ? o.holder.name_masked : o.title;
    what.appendChild(b);
    if (o.kind === "ok") {
      var place = document.createElement("span");
      place.className = "place";
      place.textContent = o.holder.place;
      what.appendChild(place);
    } else {
      var label = document.createElement("span");
      label.className = "visually-hidden";
      label.textContent = S.refused;
      what.appendChild(label);
    }
    li.append(time, mark, what);
    recentList.insertBefore(li, recentList.firstChild);
    while (recentList.children.length > RECENT_MAX) recentList.removeChild(recentList.lastChild);
    recent.hidden = false;
  }

  // ---- sound and vibration ----------------------------------------------------------------

  var soundOn = true;
  try {
    soundOn = window.localStorage.getItem("sw-scan-sound") !== "off";
  } catch (e) { /* private mode: sound on */ }
  var audio = null;

  function showSound() {
    soundButton.setAttribute("aria-pressed", soundOn ? "true" : "false");
    soundButton.textContent = soundOn ? S.sound_on : S.sound_off;
  }

  // Browsers allow sound only after a gesture: called on key presses and button taps.
  function wakeAudio() {
    if (!soundOn) return;
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!audio && Ctx) {
      try { audio = new Ctx(); } catch (e) { audio = null; }
    }
    if (audio && audio.state === "suspended") audio.resume();
  }

  function tone(freq, start, length) {
    var osc = audio.createOscillator();
    var gain = audio.createGain();
    osc.type = "square";
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.12, audio.currentTime + start);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + start + length);
    osc.connect(gain).connect(audio.destination);
    osc.start(audio.currentTime + start);
    osc.stop(audio.currentTime + start + length);
  }

  function feedback(o) {
    var ok = o.kind === "ok";
    if (soundOn && audio && audio.state === "running") {
      try {
        if (ok) tone(1320, 0, 0.12);
        else { tone(330, 0, 0.18); tone(330, 0.26, 0.18); }
      } catch (e) { /* no sound is fine */ }
    }
    if (navigator.vibrate) {
      try { navigator.vibrate(ok ? 60 : [180, 90, 180]); } catch (e) { /* not allowed */ }
    }
  }

  soundButton.hidden = false;
  showSound();
  soundButton.addEventListener("click", function () {
    soundOn = !soundOn;
    try {
      window.localStorage.setItem("sw-scan-sound", soundOn ? "on" : "off");
    } catch (e) { /* not remembered */ }
    showSound();
    wakeAudio();
    if (!coarse) input.focus();
  });
  input.addEventListener("keydown", wakeAudio);

  // ---- camera (qr-camera.js: BarcodeDetector, else jsQR) ----------------------------------

  var camera = window.QrCamera ? window.QrCamera.create(video, {
    jsqr: JSQR_URL,
    video: {
      facingMode: { ideal: "environment" },
      width: { ideal: 1280 },
      height: { ideal: 720 }
    },
    onCode: function (text) { submit(text, "camera"); },
    onStream: function () {
      videoBox.hidden = false;
      root.classList.add("camera-on");
      camButton.setAttribute("aria-expanded", "true");
      // The picture at the top of the screen, the answer right under it: no scrolling.
      videoBox.scrollIntoView({ block: "start", behavior: "smooth" });
    }
  }) : null;

  // A line under the buttons: how the camera is doing, or (problem) why it is not.
  function note(text, problem) {
    camNote.textContent = text || "";
    camNote.hidden = !text;
    camNote.classList.toggle("is-problem", !!problem);
  }

  function startCamera() {
    wakeAudio();
    note(S.camera_starting);
    camButton.disabled = true;
    camera.start().then(function () {
      note(S.camera_ready);
    }).catch(function (err) {
      stopCamera();
      note(S["camera_" + window.QrCamera.problem(err)], true);
    }).then(function () {
      camButton.disabled = false;
    });
  }

  function stopCamera() {
    camera.stop();
    videoBox.hidden = true;
    root.classList.remove("camera-on");
    camButton.setAttribute("aria-expanded", "false");
    note("");
  }

  if (camera && window.QrCamera.supported()) {
    camButton.hidden = false;
    camButton.setAttribute("aria-expanded", "false");
    camButton.addEventListener("click", function () {
      if (camera.on()) stopCamera(); else startCamera();
    });
    stopButton.addEventListener("click", function () {
      stopCamera();
      if (!coarse) input.focus();
    });
    // A phone in a pocket does not keep the camera on; it opens again with one tap.
    document.addEventListener("visibilitychange", function () {
      if (document.hidden && camera.on()) stopCamera();
    });
  } else if (window.isSecureContext === false) {
    note(S.camera_insecure, true);
  }
})();
