/* The sampling page (templates/screening/sample.html): scan a tube, then each person's pass.

   Every scan is written to this device first (localStorage, synchronously — see below), with a
   uid made here and the device's time, then sent to the scan endpoint; the server keeps one row
   per uid however often it is sent, so the device sends until the server has answered. While
   the network is down the scans wait on the device and go in one batch when it returns.

   Why localStorage and not IndexedDB: the write is synchronous, so a scan is on the device
   before the first byte goes out and before the page can be closed or reloaded — there is no
   window in which a scan exists only in memory. A long shift is a few thousand scans of ~300
   bytes, far below the ~5 MB quota, and only this page (never the service worker) reads and
   sends them. One key per user and round.

   Every user-facing string comes from the page (#smp-config): this file holds none. */
(function () {
  "use strict";

  var root = document.getElementById("smp");
  var cfgEl = document.getElementById("smp-config");
  if (!root || !cfgEl || !window.fetch || !window.localStorage) return;

  var C = JSON.parse(cfgEl.textContent);
  var S = C.strings;
  var KEY = "shouwang.sampling.v1." + C.user + "." + C.round;
  var LOG_MAX = 3000;        // the device's own list; pending entries are never dropped
  var BATCH_MAX = 100;
  var TIMEOUT_MS = 8000;
  var SLOW_MS = 1200;        // no answer by then: tell the sampler it is kept on the phone
  var PASS = /^SW[0-9A-Z]{14}$/;

  var $ = function (id) { return document.getElementById(id); };
  var input = $("smp-input");
  var form = $("smp-form");
  var result = $("smp-result");
  var netEl = $("smp-net");
  var netState = $("smp-net-state");
  var pendingEl = $("smp-pending");
  var tubeCode = $("smp-tube-code");
  var tubeBox = $("smp-tube");
  var countN = $("smp-count-n");
  var countCap = $("smp-count-cap");
  var pooledBtn = $("smp-pooled");
  var singleBtn = $("smp-single");
  var undoBtn = $("smp-undo");
  var newTubeBtn = $("smp-newtube");
  var findOpen = $("smp-find-open");
  var findBox = $("smp-find");
  var soundBtn = $("smp-sound");
  var recentList = $("smp-recent-list");
  var recentEmpty = $("smp-recent-empty");
  var recentCount = $("smp-recent-count");

  // ---- the device's state --------------------------------------------------------------------

  function blank() {
    return { tube: null, tubes: {}, single: false, visit: null, log: [], outbox: [] };
  }

  function load() {
    try {
      var s = JSON.parse(localStorage.getItem(KEY) || "null");
      if (s && s.log && s.outbox) return s;
    } catch (e) { /* a damaged entry: start afresh rather than not at all */ }
    return blank();
  }

  var state = load();

  function save() {
    if (state.log.length > LOG_MAX) {
      var waiting = {};
      state.outbox.forEach(function (o) { if (o.uid) waiting[o.uid] = true; });
      var drop = state.log.length - LOG_MAX;
      state.log = state.log.filter(function (e) {
        if (drop > 0 && !waiting[e.uid]) { drop--; return false; }
        return true;
      });
    }
    try {
      localStorage.setItem(KEY, JSON.stringify(state));
    } catch (e) {
      // The storage is full (other sites, other rounds): keep what waits to be sent, drop the
      // oldest answered scans, and try once more.
      var keep = {};
      state.outbox.forEach(function (o) { if (o.uid) keep[o.uid] = true; });
      state.log = state.log.filter(function (x, i) {
        return keep[x.uid] || i >= state.log.length - 200;
      });
      localStorage.setItem(KEY, JSON.stringify(state));
    }
  }

  // Another tab of the same page wrote: take its state (the server dedupes what both send).
  window.addEventListener("storage", function (e) {
    if (e.key === KEY) { state = load(); renderAll(); }
  });

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); });
    return h.slice(0, 4).join("") + "-" + h.slice(4, 6).join("") + "-" + h.slice(6, 8).join("") +
      "-" + h.slice(8, 10).join("") + "-" + h.slice(10).join("");
  }

  function two(n) { return (n < 10 ? "0" : "") + n; }

  // The device's time as ISO 8601 with its offset (the server keeps it beside its own).
  function isoNow(d) {
    d = d || new Date();
    var off = -d.getTimezoneOffset();
    var sign = off >= 0 ? "+" : "-";
    off = Math.abs(off);
    return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + "T" +
      two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds()) + "." +
      String(d.getMilliseconds() + 1000).slice(1) + sign + two(Math.floor(off / 60)) + ":" +
      two(off % 60);
  }

  function hhmm(iso) {
    var d = new Date(iso);
    return isNaN(d) ? "" : two(d.getHours()) + ":" + two(d.getMinutes());
  }

  function hhmmss(iso) {
    var d = new Date(iso);
    return isNaN(d) ? "" : hhmm(iso) + ":" + two(d.getSeconds());
  }

  function fmt(s, vals) {
    return String(s).replace(/%\((\w+)\)s/g, function (m, k) {
      return vals[k] === undefined ? m : vals[k];
    });
  }

  // What a camera, a wedge scanner or a person may deliver, as a bare pass token (the rules of
  // residents/tokens.py normalise): full-width characters, lower case, spaces and dashes, a URL.
  function normalise(raw) {
    var t = String(raw || "");
    if (t.normalize) t = t.normalize("NFKC");
    t = t.trim();
    if (t.indexOf("/") >= 0) t = t.replace(/\/+$/, "").split("/").pop();
    t = t.replace(/[\s\-_.·]/g, "").toUpperCase();
    if (t.slice(0, 2) === "SW") {
      t = "SW" + t.slice(2).replace(/O/g, "0").replace(/[IL]/g, "1");
    }
    return t;
  }

  function grouped(token) {
    return token.replace(/(.{4})(?=.)/g, "$1-");
  }

  // ---- tubes -----------------------------------------------------------------------------------

  function live(e) {
    return e.status !== "refused" && e.status !== "undone";
  }

  function tubeCount(code) {
    var n = 0;
    state.log.forEach(function (e) { if (e.tube === code && live(e)) n++; });
    return n;
  }

  function capacity() {
    return state.single ? 1 : C.pool_size;
  }

  function openTube(code) {
    var known = state.tubes[code];
    if (state.tube && state.tube.code === code) {
      return show("info", { title: fmt(S.tube_continued, { code: code }) });
    }
    var cap = known ? known.capacity : capacity();
    if (known && (known.closed || tubeCount(code) >= cap)) {
      beep("refused");
      return show("refused", { title: S.refused, message: fmt(S.tube_closed, { code: code }) });
    }
    state.tubes[code] = { capacity: cap, closed: false };
    state.tube = { code: code, capacity: cap };
    save();
    beep("tube");
    show("info", { title: fmt(known ? S.tube_continued : S.tube_open, { code: code }) });
    renderTube();
  }

  function closeTube(reason) {
    var t = state.tube;
    if (!t) return;
    var n = tubeCount(t.code);
    state.tubes[t.code].closed = true;
    state.tube = null;
    // A tube with nobody in it never reached the server: nothing to close there.
    if (n > 0 && n < t.capacity) state.outbox.push({ op: "close", tube: t.code, at: isoNow() });
    save();
    if (reason !== "full") show("info", { title: fmt(S.tube_closed, { code: t.code }) });
    renderTube();
    pump();
  }

  // ---- scanning ----------------------------------------------------------------------------------

  function submit(raw) {
    var token = normalise(raw);
    if (!token) return;
    if (PASS.test(token)) {
      scan({ pass: token }, { key: "p:" + token, code: grouped(token) });
    } else {
      var code = String(raw).normalize ? String(raw).normalize("NFKC").trim() : String(raw).trim();
      openTube(code.replace(/\s+/g, ""));
    }
  }

  function duplicateOf(who) {
    for (var i = state.log.length - 1; i >= 0; i--) {
      var e = state.log[i];
      if (!live(e)) continue;
      if (e.key === who.key || (who.resident && e.resident === who.resident)) return e;
    }
    return null;
  }

  // `person`: {pass} | {resident} | {walk_in}; `who`: what the device knows to show and to
  // catch its own duplicates by.
  function scan(person, who) {
    var t = state.tube;
    if (!t) {
      beep("refused");
      return show("refused", { title: S.no_tube, message: S.no_tube_help });
    }
    var dup = duplicateOf(who);
    if (dup) {
      beep("refused");
      return show("refused", {
        title: S.refused,
        name: dup.name || who.name || who.code,
        household: dup.household || who.household,
        message: fmt(S.local_dup, { time: hhmm(dup.at), tube: dup.tube }),
        code: "duplicate_local"
      });
    }
    var at = isoNow();
    var uid = uuid();
    var body = { uid: uid, at: at, tube: t.code, capacity: t.capacity };
    Object.keys(person).forEach(function (k) { body[k] = person[k]; });
    if (state.visit) body.visit = state.visit;
    var entry = {
      uid: uid, at: at, key: who.key, code: who.code || "", tube: t.code,
      resident: who.resident || null, name: who.name || "", household: who.household || "",
      status: "pending", flags: [], message: ""
    };
    state.log.push(entry);
    // Made while the network is known to be down: the person is swabbed on the strength of the
    // device alone, so the server must keep it even if they were sampled before.
    state.outbox.push({ op: "scan", uid: uid, body: body, tries: 0, offline: !online });
    var full = tubeCount(t.code) >= t.capacity;
    if (full) {
      state.tubes[t.code].closed = true;
      state.tube = null;
    }
    save();
    current = uid;
    showEntry(entry, online ? "sending" : "saved");
    if (!online) beep("saved");
    else slowTimer(uid);
    renderTube();
    renderRecent();
    pump();
  }

  var current = null;   // the uid whose answer the big panel shows

  function slowTimer(uid) {
    setTimeout(function () {
      var e = entryOf(uid);
      if (e && e.status === "pending" && current === uid) {
        showEntry(e, "saved");
        beep("saved");
      }
    }, SLOW_MS);
  }

  function entryOf(uid) {
    for (var i = state.log.length - 1; i >= 0; i--) if (state.log[i].uid === uid) return state.log[i];
    return null;
  }

  function undo() {
    var e = null;
    for (var i = state.log.length - 1; i >= 0; i--) {
      if (live(state.log[i])) { e = state.log[i]; break; }
    }
    if (!e) return show("info", { title: S.nothing_to_undo });
    e.status = "undone";
    var idx = -1;
    state.outbox.forEach(function (o, j) { if (o.op === "scan" && o.uid === e.uid) idx = j; });
    if (idx >= 0 && state.outbox[idx].tries === 0 && !(inflight && inflight[e.uid])) {
      state.outbox.splice(idx, 1);   // never sent: it simply never happened
    } else {
      state.outbox.push({ op: "undo", uid: e.uid, at: isoNow() });
    }
    // The tube it was in is open again on the device (it had filled up with this scan).
    var info = state.tubes[e.tube];
    if (info && (!state.tube || state.tube.code === e.tube)) {
      info.closed = false;
      state.tube = { code: e.tube, capacity: info.capacity };
    }
    save();
    current = null;
    beep("undo");
    show("info", { title: fmt(S.undone, { name: e.name || e.code }) });
    renderTube();
    renderRecent();
    pump();
  }

  // ---- sending ------------------------------------------------------------------------------------

  var online = navigator.onLine !== false;
  var inflight = null;          // uids of the request on the wire
  var stationDead = false;      // the key expired: keep everything until the page is reopened
  var retryTimer = null;
  var backoff = 0;
  var batchFailures = 0;

  function headers() {
    return {
      "Content-Type": "application/json",
      "Accept": "application/json",
      "X-Shouwang-Station": C.station
    };
  }

  function wire(o) {
    if (o.op === "scan") {
      var b = {};
      Object.keys(o.body).forEach(function (k) { b[k] = o.body[k]; });
      // Sent before (the answer may have been lost) or made offline: the swab was taken.
      b.queued = o.offline || o.tries > 1;
      return b;
    }
    if (o.op === "undo") return { undo: o.uid };
    return { close: o.tube };
  }

  function pump() {
    if (inflight || stationDead || !state.outbox.length) return;
    clearTimeout(retryTimer);
    var items = state.outbox.slice(0, batchFailures >= 2 ? 1 : BATCH_MAX);
    items.forEach(function (o) { o.tries = (o.tries || 0) + 1; });
    save();   // a retry after a reload mid-send is known to be one
    var url, body;
    if (items.length === 1) {
      var o = items[0];
      if (o.op === "scan") { url = C.urls.scan; body = wire(o); }
      else if (o.op === "undo") { url = C.urls.undo; body = { uid: o.uid, at: o.at }; }
      else { url = C.urls.close; body = { tube: o.tube, at: o.at }; }
    } else {
      url = C.urls.batch;
      body = { items: items.map(wire) };
    }
    inflight = {};
    items.forEach(function (o) { inflight[o.uid || "close:" + o.tube] = true; });
    var abort = window.AbortController ? new AbortController() : null;
    var giveUp = abort ? setTimeout(function () { abort.abort(); }, TIMEOUT_MS) : null;
    fetch(url, {
      method: "POST", credentials: "same-origin", cache: "no-store",
      signal: abort ? abort.signal : undefined,
      headers: headers(), body: JSON.stringify(body)
    })
      .then(function (resp) {
        return resp.json().then(
          function (b) { return { status: resp.status, body: b }; },
          function () { return { status: resp.status, body: null }; }
        );
      })
      .then(function (r) {
        setOnline(true);
        if (r.status === 401 || (r.body && r.body.code === "station")) {
          stationDead = true;
          show("error", { title: S.refused, message: S.station });
          return;
        }
        if (items.length > 1) {
          if (r.status !== 200 || !r.body || !r.body.results) { batchFailures++; return retry(); }
          batchFailures = 0;
          items.forEach(function (o, i) { answered(o, r.body.results[i] || null, 200); });
        } else {
          if (r.status >= 500 || !r.body) return retry();
          batchFailures = 0;
          answered(items[0], r.body, r.status);
        }
        backoff = 0;
      }, function () {
        setOnline(false);
        retry();
      })
      .then(function () {
        clearTimeout(giveUp);
        inflight = null;
        save();
        renderAll();
        if (!stationDead && online && state.outbox.length && !retryTimer) pump();
      });
  }

  function retry() {
    backoff = Math.min(backoff ? backoff * 2 : 1000, 8000);   // cheap: one small request
    clearTimeout(retryTimer);
    retryTimer = setTimeout(function () { retryTimer = null; pump(); }, backoff);
  }

  // The server has answered for `o`: it leaves the outbox, whatever the answer.
  function answered(o, a, status) {
    state = load();   // another tab may have written meanwhile
    state.outbox = state.outbox.filter(function (x) {
      return !(x.op === o.op && (o.op === "close" ? x.tube === o.tube : x.uid === o.uid));
    });
    if (o.op !== "scan" || !a) return;
    var e = entryOf(o.uid);
    if (!e) return;
    var wasUndone = e.status === "undone";
    if (a.ok) {
      if (!wasUndone) e.status = a.status || "recorded";
      if (a.person) {
        e.name = a.person.name || e.name;
        e.household = a.person.household || e.household;
        e.resident = a.person.resident || e.resident;
      }
      e.flags = a.flags || [];
      e.message = a.message || "";
      if (o.body.visit) visitDone(o.body.visit);
      if (a.tube && a.tube.full && state.tubes[a.tube.code] && !wasUndone) {
        state.tubes[a.tube.code].closed = true;
        if (state.tube && state.tube.code === a.tube.code) state.tube = null;
      }
    } else {
      e.status = "refused";
      e.refusal = a.code || "";
      e.message = a.message || "";
      // A live refusal: the tube has room again (the count is the device's own list).
      var info = state.tubes[e.tube];
      if (info && info.closed && !state.tube && e.refusal !== "tube_full" &&
          e.refusal !== "round_closed") {
        info.closed = false;
        state.tube = { code: e.tube, capacity: info.capacity };
      }
    }
    save();
    if (current === o.uid) {
      showEntry(e);
      if (e.status === "refused") beep("refused");
      else if (e.status !== "duplicate_kept" && !e.beeped) { beep("ok"); }
      else beep("refused");
    }
  }

  function setOnline(yes) {
    online = yes;
    renderNet();
  }

  window.addEventListener("online", function () { setOnline(true); backoff = 0; pump(); });
  window.addEventListener("offline", function () { setOnline(false); });

  // ---- showing -----------------------------------------------------------------------------------

  function show(kind, o) {
    var frag = $("smp-tpl-person").content.cloneNode(true);
    frag.querySelector(".smp-mark").textContent =
      kind === "ok" ? "✓" : kind === "refused" ? "✗" : kind === "saved" ? "⇡" : kind === "info" ? "▸" : "!";
    frag.querySelector(".smp-verdict-text").textContent = o.title || "";
    var at = frag.querySelector(".smp-at");
    if (o.at) { at.textContent = hhmmss(o.at); at.setAttribute("datetime", o.at); }
    else at.remove();
    var name = frag.querySelector(".smp-name");
    if (o.name) name.textContent = o.name; else name.remove();
    var hh = frag.querySelector(".smp-household");
    if (o.household) hh.textContent = o.household; else hh.remove();
    var flags = frag.querySelector(".smp-flags");
    (o.flags || []).forEach(function (f) {
      var s = document.createElement("span");
      s.className = "tag warn smp-flag";
      s.setAttribute("data-flag", f);
      s.textContent = (S.flags && S.flags[f]) || f;
      flags.appendChild(s);
    });
    if (!(o.flags || []).length) flags.remove();
    var msg = frag.querySelector(".smp-message");
    if (o.message) { msg.textContent = o.message; if (o.code) msg.setAttribute("data-code", o.code); }
    else msg.remove();
    result.className = "smp-result is-" + kind;
    result.replaceChildren(frag);
    result.classList.remove("flash-in");
    void result.offsetWidth;
    result.classList.add("flash-in");
  }

  // The big panel for a scan: sending, kept on the device, recorded, or refused.
  function showEntry(e, phase) {
    var kind, title, message = e.message;
    if (e.status === "refused") { kind = "refused"; title = S.refused; }
    else if (e.status === "duplicate_kept") { kind = "warn"; title = S.not_counted; }
    else if (e.status === "pending") {
      kind = phase === "sending" ? "sending" : "saved";
      title = phase === "sending" ? S.sending : S.saved;
      message = phase === "sending" ? "" : fmt(S.saved_help, { code: e.code || e.name });
    } else { kind = "ok"; title = S.recorded; message = ""; }   // the name says it all
    show(kind, {
      title: title, at: e.at, name: e.name || e.code, household: e.household,
      flags: e.flags, message: message, code: e.status === "refused" ? e.refusal : ""
    });
    result.setAttribute("data-uid", e.uid);
    result.setAttribute("data-status", e.status);
    if (!state.tube && e.status !== "refused") {
      var p = document.createElement("p");
      p.className = "smp-next";
      p.textContent = S.next_tube;
      result.appendChild(p);
    }
  }

  function renderTube() {
    var t = state.tube;
    tubeCode.textContent = t ? t.code : "—";
    var n = t ? tubeCount(t.code) : 0;
    countN.textContent = n;
    countCap.textContent = t ? t.capacity : capacity();
    tubeBox.classList.toggle("is-empty", !t);
    tubeBox.classList.toggle("is-nearly", !!t && t.capacity > 1 && n >= t.capacity - 2);
    pooledBtn.setAttribute("aria-pressed", String(!state.single));
    singleBtn.setAttribute("aria-pressed", String(!!state.single));
    undoBtn.disabled = !state.log.some(live);
    input.placeholder = t ? input.getAttribute("data-ph-pass") : input.getAttribute("data-ph-tube");
  }

  function renderNet() {
    var n = state.outbox.length;
    netEl.className = "smp-net " + (online ? "is-online" : "is-offline") + (n ? " has-pending" : "");
    netState.textContent = online ? S.online : S.offline;
    pendingEl.textContent = n ? fmt(S.pending, { n: n }) : S.all_sent;
    pendingEl.setAttribute("data-count", String(n));
  }

  function renderRecent() {
    var shown = state.log.slice(-40).reverse();
    recentList.replaceChildren();
    shown.forEach(function (e) {
      var li = document.createElement("li");
      li.className = "is-" + e.status;
      li.setAttribute("data-uid", e.uid);
      var time = document.createElement("time");
      time.textContent = hhmm(e.at);
      var what = document.createElement("span");
      what.className = "what";
      var b = document.createElement("b");
      b.textContent = e.name || e.code;
      what.appendChild(b);
      if (e.household) {
        var h = document.createElement("span");
        h.className = "place";
        h.textContent = e.household;
        what.appendChild(h);
      }
      var st = document.createElement("span");
      st.className = "st";
      st.textContent = (S.statuses[e.status] || e.status) + " · " + e.tube;
      li.append(time, what, st);
      if (e.status === "refused" && e.message) {
        var why = document.createElement("span");
        why.className = "why";
        why.textContent = e.message;
        li.appendChild(why);
      }
      recentList.appendChild(li);
    });
    var total = state.log.filter(function (e) {
      return e.status !== "refused" && e.status !== "undone";
    }).length;
    recentCount.textContent = total ? "(" + total + ")" : "";
    recentEmpty.hidden = state.log.length > 0;
  }

  function renderAll() {
    renderTube();
    renderNet();
    renderRecent();
  }

  // ---- sound -------------------------------------------------------------------------------------

  var audio = null;
  var soundOn = localStorage.getItem("shouwang.sampling.sound") !== "off";

  function tone(freq, start, dur, type) {
    var o = audio.createOscillator();
    var g = audio.createGain();
    o.type = type || "sine";
    o.frequency.value = freq;
    var t0 = audio.currentTime + start;
    g.gain.setValueAtTime(0.0001, t0);
    g.gain.exponentialRampToValueAtTime(0.25, t0 + 0.01);
    g.gain.exponentialRampToValueAtTime(0.0001, t0 + dur);
    o.connect(g).connect(audio.destination);
    o.start(t0);
    o.stop(t0 + dur + 0.02);
  }

  function beep(kind) {
    if (!soundOn) return;
    try {
      if (!audio) {
        var A = window.AudioContext || window.webkitAudioContext;
        if (!A) return;
        audio = new A();
      }
      if (audio.state === "suspended") audio.resume();
      if (kind === "ok") tone(1320, 0, 0.09);
      else if (kind === "saved") { tone(880, 0, 0.07); tone(880, 0.11, 0.07); }
      else if (kind === "tube") { tone(660, 0, 0.07); tone(990, 0.09, 0.09); }
      else if (kind === "undo") tone(520, 0, 0.08);
      else { tone(196, 0, 0.18, "square"); tone(165, 0.22, 0.24, "square"); }
    } catch (e) { /* no sound is no reason to stop scanning */ }
  }

  if (soundBtn) {
    soundBtn.hidden = false;
    var paint = function () {
      soundBtn.setAttribute("aria-pressed", String(soundOn));
      soundBtn.textContent = soundOn ? soundBtn.getAttribute("data-on") : soundBtn.getAttribute("data-off");
    };
    paint();
    soundBtn.addEventListener("click", function () {
      soundOn = !soundOn;
      localStorage.setItem("shouwang.sampling.sound", soundOn ? "on" : "off");
      paint();
      input.focus();
    });
  }

  // ---- find and register on the spot -------------------------------------------------------------

  var findForm = $("smp-find-form");
  var q = $("smp-q");
  var found = $("smp-found");
  var findNote = $("smp-find-note");

  function note(text) {
    findNote.textContent = text || "";
    findNote.hidden = !text;
  }

  findOpen.addEventListener("click", function () {
    var open = findBox.hidden;
    findBox.hidden = !open;
    findOpen.setAttribute("aria-expanded", String(open));
    if (open) q.focus(); else input.focus();
  });

  findForm.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = q.value.trim();
    if (!text) return;
    found.replaceChildren();
    if (!online && navigator.onLine === false) return note(S.find_offline);
    note(S.sending);
    fetch(C.urls.find + "?q=" + encodeURIComponent(text), {
      credentials: "same-origin", headers: { "Accept": "application/json" }, cache: "no-store"
    })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (b) {
        note(b.results.length ? "" : S.find_empty);
        b.results.forEach(function (p) { found.appendChild(foundItem(p)); });
      }, function () { note(S.find_offline); });
  });

  function foundItem(p) {
    var li = document.createElement("li");
    var who = document.createElement("div");
    who.className = "who";
    var line = document.createElement("span");
    line.className = "line";
    var b = document.createElement("b");
    b.textContent = p.name;
    line.appendChild(b);
    if (p.birth_year) {
      var y = document.createElement("span");
      y.className = "muted";
      y.textContent = p.birth_year;
      line.appendChild(y);
    }
    if (p.presence) {
      var pr = document.createElement("span");
      pr.className = "tag warn";
      pr.textContent = p.presence;
      line.appendChild(pr);
    }
    who.appendChild(line);
    var h = document.createElement("span");
    h.className = "place";
    h.textContent = p.household;
    who.appendChild(h);
    var ids = [p.id_number, p.phone].filter(Boolean);
    if (ids.length) {
      var m = document.createElement("span");
      m.className = "ids small mono";
      ids.forEach(function (v) {
        var one = document.createElement("span");
        one.textContent = v;
        m.appendChild(one);
      });
      who.appendChild(m);
    }
    var btn = document.createElement("button");
    btn.type = "button";
    btn.className = "btn primary";
    if (p.sampled_at) {
      btn.disabled = true;
      btn.textContent = fmt(S.find_sampled, { time: hhmm(p.sampled_at) });
    } else {
      btn.textContent = S.pick;
      btn.addEventListener("click", function () {
        scan({ resident: p.resident },
             { key: "r:" + p.resident, resident: p.resident, name: p.name, household: p.household });
        closeFind();
      });
    }
    li.append(who, btn);
    return li;
  }

  // GB 11643: 17 digits and a check character (mod 11 with these weights).
  function idChecks(id) {
    if (!/^\d{17}[\dX]$/.test(id)) return false;
    var w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    var sum = 0;
    for (var i = 0; i < 17; i++) sum += Number(id[i]) * w[i];
    return "10X98765432"[sum % 11] === id[17];
  }

  function closeFind() {
    findBox.hidden = true;
    findOpen.setAttribute("aria-expanded", "false");
    found.replaceChildren();
    q.value = "";
    note("");
    input.focus();
  }

  $("smp-walkin-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var f = ev.target;
    var name = f.elements.name.value.trim();
    var idn = f.elements.id_number.value.trim().toUpperCase();
    var phone = f.elements.phone.value.trim();
    if (!name || !idn) return note(S.walk_in_missing);
    // Checked here too: a walk-in kept offline and refused later would be a swab with no name.
    if (!idChecks(idn)) return note(S.walk_in_bad_id);
    scan({ walk_in: { name: name, id_number: idn, phone: phone } },
         { key: "w:" + idn.replace(/\s+/g, ""), name: name, household: S.walk_in });
    f.reset();
    $("smp-walkin").open = false;
    closeFind();
  });

  // ---- door to door ------------------------------------------------------------------------------

  var visits = $("smp-visits");

  // A scan filed under a home marks the visit visited on the server (scan.py): show it.
  function visitDone(id) {
    if (!visits) return;
    var li = visits.querySelector('.smp-visit[data-visit="' + id + '"]');
    var btn = li && li.querySelector('button[data-status="visited"]');
    if (!li || !btn) return;
    li.setAttribute("data-status", "visited");
    li.querySelector(".smp-visit-status").textContent = btn.textContent;
  }

  if (visits) {
    var paintVisits = function () {
      var here = null;
      visits.querySelectorAll(".smp-visit").forEach(function (li) {
        var on = String(state.visit) === li.getAttribute("data-visit");
        li.classList.toggle("is-current", on);
        li.querySelector(".smp-visit-pick").setAttribute("aria-pressed", String(on));
        if (on) here = li.querySelector(".smp-visit-pick b").textContent;
      });
      // The home chosen, beside the tube: the sampler sees it without scrolling down.
      $("smp-home").hidden = !here;
      $("smp-home-name").textContent = here || "";
    };
    paintVisits();
    visits.addEventListener("click", function (ev) {
      var li = ev.target.closest(".smp-visit");
      if (!li) return;
      var pick = ev.target.closest(".smp-visit-pick");
      var status = ev.target.closest("button[data-status]");
      if (pick) {
        var id = Number(li.getAttribute("data-visit"));
        state.visit = state.visit === id ? null : id;
        save();
        paintVisits();
        if (state.visit) window.scrollTo({ top: 0, behavior: "smooth" });
      } else if (status && li.getAttribute("data-url")) {
        var fd = new FormData();
        fd.append("status", status.getAttribute("data-status"));
        fetch(li.getAttribute("data-url"), {
          method: "POST", credentials: "same-origin", body: fd,
          headers: { "X-CSRFToken": C.csrf || "", "Accept": "application/json" }
        }).then(function (r) {
          if (!r.ok) throw new Error(r.status);
          li.setAttribute("data-status", status.getAttribute("data-status"));
          li.querySelector(".smp-visit-status").textContent = status.textContent;
          show("info", { title: fmt(S.visit_saved, { status: status.textContent }) });
        }).catch(function () { show("error", { title: S.offline, message: S.find_offline }); });
      }
      input.focus();
    });
  }

  // ---- the input and the buttons -----------------------------------------------------------------

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var raw = input.value;
    input.value = "";
    input.focus();
    if (raw.trim()) submit(raw);
  });

  input.addEventListener("keydown", function (ev) {
    if ((ev.ctrlKey || ev.metaKey) && ev.key === "z" && !input.value) { ev.preventDefault(); undo(); }
    if (ev.key === "Escape") input.value = "";
  });

  undoBtn.addEventListener("click", function () { undo(); input.focus(); });
  newTubeBtn.addEventListener("click", function () {
    if (state.tube) closeTube("button");
    else show("info", { title: S.scan_tube });
    input.focus();
  });

  function setSingle(yes) {
    state.single = yes;
    var t = state.tube;
    // A tube nobody is in yet takes the new kind; one in use keeps its own.
    if (t && tubeCount(t.code) === 0) {
      t.capacity = capacity();
      state.tubes[t.code].capacity = t.capacity;
    }
    save();
    renderTube();
    input.focus();
  }
  pooledBtn.addEventListener("click", function () { setSingle(false); });
  singleBtn.addEventListener("click", function () { setSingle(true); });

  // A scan while the focus is elsewhere (a tap on the page) still lands in the input.
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (t === input || e.ctrlKey || e.metaKey || e.altKey || !e.key || e.key.length !== 1) return;
    if (t && /^(INPUT|SELECT|TEXTAREA)$/.test(t.tagName)) return;
    if (t && t.isContentEditable) return;
    input.focus();
  }, true);

  // ---- offline: the service worker keeps this page and its files -----------------------------------

  if ("serviceWorker" in navigator && C.urls.sw) {
    navigator.serviceWorker.register(C.urls.sw, { scope: C.urls.sw.replace(/[^/]*$/, "") })
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function (reg) {
        var urls = [location.pathname + location.search];
        document.querySelectorAll("link[rel=stylesheet][href], script[src]").forEach(function (el) {
          urls.push(el.getAttribute("href") || el.getAttribute("src"));
        });
        if (reg.active) reg.active.postMessage({ type: "keep", urls: urls });
        root.setAttribute("data-sw", "ready");
      })
      .catch(function () { root.setAttribute("data-sw", "failed"); });
  }

  renderAll();
  // Reopened (a reload, perhaps offline): the last scan as it stands, or the open tube.
  var last = state.log.length ? state.log[state.log.length - 1] : null;
  if (last && last.status !== "undone") { current = last.uid; showEntry(last, "saved"); }
  else if (state.tube) show("info", { title: fmt(S.tube_continued, { code: state.tube.code }) });
  root.setAttribute("data-ready", "1");
  pump();
})();
