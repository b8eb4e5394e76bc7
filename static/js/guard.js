/* The guard page: scan a pass (hand scanner typing the code + Enter, the camera, or typing) or
   find someone without one; the page posts the passage (direction, temperature, health-code
   colour) with the gate key in a header and shows the decision big: ALLOW green, DENY red,
   CHECK FURTHER amber, with every reason. Every user-facing string comes from the page
   (#guard-config): this file holds none. */
(function () {
  "use strict";

  var root = document.getElementById("guard");
  var form = document.getElementById("guard-form");
  if (!root || !form || !window.fetch || !window.JSON) return;

  var C = JSON.parse(document.getElementById("guard-config").textContent);
  var S = C.strings;
  var input = document.getElementById("guard-token");
  var temp = document.getElementById("guard-temp");
  var result = document.getElementById("guard-result");
  var recentList = document.getElementById("guard-recent-list");
  var soundButton = document.getElementById("guard-sound");
  var TIMEOUT_MS = 10000;
  var RECENT_MAX = 20;
  var coarse = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;
  var sent = 0;
  var shown = 0;

  function uuid4() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    var b = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); });
    return h.slice(0, 4).join("") + "-" + h.slice(4, 6).join("") + "-" + h.slice(6, 8).join("") +
      "-" + h.slice(8, 10).join("") + "-" + h.slice(10).join("");
  }

  function direction() {
    var el = form.querySelector("input[name=direction]:checked");
    return el ? el.value : "in";
  }

  function colour() {
    var el = form.querySelector("input[name=code_colour]:checked");
    return el ? el.value : "";
  }

  // 365 or 36,5 typed on a keypad: shown as 36.5, the way the guard reads it back.
  function tidyTemp() {
    var v = temp.value.trim().replace(/[,，。]/g, ".");
    if (/^\d{3}$/.test(v)) v = v.slice(0, 2) + "." + v.slice(2);
    temp.value = v;
    return v;
  }
  temp.addEventListener("blur", tidyTemp);
  temp.addEventListener("keydown", function (e) {
    if (e.key === "Enter") { e.preventDefault(); tidyTemp(); input.focus(); }
  });

  // ---- sending ------------------------------------------------------------------------------

  function send(body) {
    var mine = ++sent;
    var abort = window.AbortController ? new AbortController() : null;
    var giveUp = abort ? setTimeout(function () { abort.abort(); }, TIMEOUT_MS) : null;
    var slow = setTimeout(function () { if (shown < mine) showText(S.checking, "is-checking"); }, 300);
    var headers = { "Content-Type": "application/json", "Accept": "application/json" };
    headers[C.header] = C.key;
    return fetch(C.urls.pass, {
      method: "POST",
      credentials: "same-origin",
      signal: abort ? abort.signal : undefined,
      headers: headers,
      body: JSON.stringify(body)
    }).then(function (resp) {
      return resp.json().then(function (b) { return { status: resp.status, body: b }; },
        function () { return { status: resp.status, body: {} }; });
    }).then(function (r) {
      if (r.status === 200 && r.body.ok) return { kind: "decision", a: r.body };
      if (r.status === 401) return { kind: "error", message: S.gate_key };
      return { kind: "error", message: (r.body && r.body.message) || S.failed };
    }, function () {
      return { kind: "error", message: S.offline, retry: body };
    }).then(function (o) {
      clearTimeout(giveUp);
      clearTimeout(slow);
      if (mine >= shown) {
        shown = mine;
        render(o);
      }
      if (o.kind === "decision") {
        remember(o.a);
        temp.value = "";
        var picked = form.querySelector("input[name=code_colour]:checked");
        if (picked) picked.checked = false;
      }
      feedback(o);
      if (!coarse) (temp.value ? input : temp).focus();
    });
  }

  function passage(extra) {
    var body = {
      uid: uuid4(),
      at: new Date().toISOString(),
      direction: direction(),
      temperature: tidyTemp() || null,
      code_colour: colour()
    };
    for (var k in extra) body[k] = extra[k];
    return body;
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var raw = input.value;
    input.value = "";
    if (!raw.trim()) { showText(S.no_pass, "is-error"); input.focus(); return; }
    send(passage({ pass: raw }));
  });

  // A hand scanner typing while the focus is elsewhere (a tapped button) still lands.
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (t === input || e.ctrlKey || e.metaKey || e.altKey || !e.key || e.key.length !== 1) return;
    if (t && /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(t.tagName) && t.type !== "radio") return;
    if (t && t.isContentEditable) return;
    input.focus();
  }, true);

  // ---- showing ------------------------------------------------------------------------------

  function hhmm(d) {
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds());
  }

  function showText(text, cls) {
    result.className = "guard-result " + cls;
    var p = document.createElement("p");
    p.className = "ready";
    p.textContent = text;
    result.replaceChildren(p);
  }

  function render(o) {
    if (o.kind !== "decision") {
      showText(o.message, "is-error");
      if (o.retry) {
        var again = document.createElement("button");
        again.type = "button";
        again.className = "btn";
        again.textContent = "↻";
        again.addEventListener("click", function () { send(o.retry); });  // same uid: once
        result.appendChild(again);
      }
      return;
    }
    var a = o.a;
    var frag = document.getElementById("guard-tpl").content.cloneNode(true);
    frag.querySelector(".verdict-text").textContent = a.decision_label;
    var at = frag.querySelector(".at");
    at.textContent = hhmm(new Date(a.at));
    at.setAttribute("datetime", a.at);
    var who = frag.querySelector(".who");
    if (a.person) {
      who.querySelector(".who-name").textContent = a.person.name;
      who.querySelector(".who-home").textContent = a.person.home;
    } else {
      who.remove();
    }
    var level = frag.querySelector(".level");
    if (a.level_label) level.textContent = a.level_label; else level.remove();
    var ul = frag.querySelector(".reasons");
    if (a.pass_problem) {
      var li0 = document.createElement("li");
      li0.className = "r-check";
      li0.textContent = a.pass_problem.message;
      ul.appendChild(li0);
    }
    a.reasons.forEach(function (r) {
      if (r.code === "pass_refused" && a.pass_problem) return;
      var li = document.createElement("li");
      li.className = "r-" + r.decision;
      li.setAttribute("data-code", r.code);
      li.textContent = r.text;
      ul.appendChild(li);
    });
    if (!ul.children.length) {
      var ok = document.createElement("li");
      ok.textContent = S.all_clear;
      ul.appendChild(ok);
    }
    result.className = "guard-result is-" + a.decision;
    result.setAttribute("data-decision", a.decision);
    result.replaceChildren(frag);
    result.classList.remove("flash-in");
    void result.offsetWidth;
    result.classList.add("flash-in");
    var box = result.getBoundingClientRect();
    if (box.bottom > window.innerHeight || box.top < 0) {
      result.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
  }

  function remember(a) {
    var empty = recentList.querySelector(".empty");
    if (empty) empty.remove();
    if (a.status === "replayed" && recentList.querySelector('[data-uid="' + a.uid + '"]')) return;
    var li = document.createElement("li");
    li.className = "d-" + a.decision;
    li.setAttribute("data-uid", a.uid);
    var t = document.createElement("time");
    t.textContent = hhmm(new Date(a.at)).slice(0, 5);
    var b = document.createElement("b");
    b.textContent = a.decision_label;
    var dir = document.createElement("span");
    dir.textContent = S[a.direction];
    var name = document.createElement("span");
    name.textContent = a.person ? a.person.name : "";
    var home = document.createElement("span");
    home.className = "muted";
    home.textContent = a.person ? a.person.home : "";
    li.append(t, " ", b, " ", dir, " ", name, " ", home);
    var texts = a.reasons.map(function (r) { return r.text; });
    if (texts.length) {
      var rs = document.createElement("span");
      rs.className = "muted small";
      rs.textContent = " · " + texts.join(" · ");
      li.appendChild(rs);
    }
    recentList.insertBefore(li, recentList.firstChild);
    while (recentList.children.length > RECENT_MAX) recentList.removeChild(recentList.lastChild);
  }

  // ---- search ---------------------------------------------------------------------------------

  var findForm = document.getElementById("guard-find-form");
  var found = document.getElementById("guard-found");
  findForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var q = document.getElementById("guard-q").value.trim();
    if (!q) return;
    fetch(C.urls.find + "?q=" + encodeURIComponent(q), {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (r) { return r.json(); }).then(function (data) {
      found.replaceChildren();
      if (!data.results.length) {
        var none = document.createElement("li");
        none.className = "muted";
        none.textContent = S.find_empty;
        found.appendChild(none);
        return;
      }
      data.results.forEach(function (p) {
        var li = document.createElement("li");
        var text = document.createElement("span");
        text.textContent = p.name + " · " + p.home +
          (p.birth_year ? " · " + p.birth_year : "") + (p.id_number ? " · " + p.id_number : "");
        var pick = document.createElement("button");
        pick.type = "button";
        pick.className = "btn small primary";
        pick.textContent = S.pick;
        pick.addEventListener("click", function () {
          send(passage({ resident: p.resident }));
        });
        li.append(text, pick);
        found.appendChild(li);
      });
    }, function () {
      found.replaceChildren();
      var li = document.createElement("li");
      li.textContent = S.find_offline;
      found.appendChild(li);
    });
  });

  // ---- sound and vibration ------------------------------------------------------------------

  var soundOn = true;
  try { soundOn = window.localStorage.getItem("sw-guard-sound") !== "off"; } catch (e) { /* on */ }
  var audio = null;

  function showSound() {
    soundButton.setAttribute("aria-pressed", soundOn ? "true" : "false");
    soundButton.textContent = soundOn ? S.sound_on : S.sound_off;
  }

  function wakeAudio() {
    if (!soundOn) return;
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!audio && Ctx) { try { audio = new Ctx(); } catch (e) { audio = null; } }
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
    var d = o.kind === "decision" ? o.a.decision : "check";
    if (soundOn && audio && audio.state === "running") {
      try {
        if (d === "allow") tone(1320, 0, 0.12);
        else if (d === "check") { tone(660, 0, 0.15); tone(660, 0.22, 0.15); }
        else { tone(300, 0, 0.25); tone(300, 0.32, 0.25); tone(300, 0.64, 0.25); }
      } catch (e) { /* no sound is fine */ }
    }
    if (navigator.vibrate) {
      try {
        navigator.vibrate(d === "allow" ? 60 : d === "check" ? [120, 80, 120] : [300, 100, 300, 100, 300]);
      } catch (e) { /* not allowed */ }
    }
  }

  soundButton.hidden = false;
  showSound();
  soundButton.addEventListener("click", function () {
    soundOn = !soundOn;
    try { window.localStorage.setItem("sw-guard-sound", soundOn ? "on" : "off"); } catch (e) { /* */ }
    showSound();
    wakeAudio();
  });
  form.addEventListener("keydown", wakeAudio);
  form.addEventListener("click", wakeAudio);

  // ---- camera (qr-camera.js, as the scanner page: BarcodeDetector, else jsQR) --------------

  var camButton = document.getElementById("guard-camera");
  var camNote = document.getElementById("guard-camera-note");
  var videoBox = document.getElementById("guard-video");
  var video = document.getElementById("guard-video-el");
  var stopButton = document.getElementById("guard-stop");
  var camera = window.QrCamera ? window.QrCamera.create(video, {
    jsqr: root.getAttribute("data-jsqr"),
    onCode: function (text) { send(passage({ pass: text })); },
    onStream: function () {
      videoBox.hidden = false;
      camButton.setAttribute("aria-expanded", "true");
    }
  }) : null;

  function note(text, problem) {
    camNote.textContent = text || "";
    camNote.hidden = !text;
    camNote.classList.toggle("is-problem", !!problem);
  }

  function stopCamera() {
    camera.stop();
    videoBox.hidden = true;
    camButton.setAttribute("aria-expanded", "false");
    note("");
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
    }).then(function () { camButton.disabled = false; });
  }

  if (camera && window.QrCamera.supported()) {
    camButton.hidden = false;
    camButton.setAttribute("aria-expanded", "false");
    camButton.addEventListener("click", function () { if (camera.on()) stopCamera(); else startCamera(); });
    stopButton.addEventListener("click", stopCamera);
    document.addEventListener("visibilitychange", function () {
      if (document.hidden && camera.on()) stopCamera();
    });
  } else if (window.isSecureContext === false) {
    note(S.camera_insecure, true);
  }
})();
