/* The intake page (templates/helpline/intake.html): the caller's number opens the household as it
   is typed, picking a person picks their household, the clock of the intake runs from the first
   key, and the save button works once. Without this file the page still works: "Find" posts the
   form to open the household, and the server's render time starts the clock. */
(function () {
  "use strict";
  var form = document.getElementById("hl-intake");
  if (!form) return;
  var phone = form.querySelector("input[name=caller_phone]");
  var opened = form.querySelector("input[name=opened]");
  var clock = document.getElementById("hl-clock");
  var loadedAt = Date.now();
  var startedAt = null;
  var timer = null;
  var lastLooked = null;

  function digits(v) { return (v || "").replace(/\D/g, ""); }

  function start() {
    if (startedAt !== null) return;
    startedAt = Date.now();
    // The server gave the time it rendered the page; the call starts at the first key.
    if (opened && opened.value) {
      opened.value = String(parseInt(opened.value, 10) + Math.round((startedAt - loadedAt) / 1000));
    }
    if (clock) {
      clock.hidden = false;
      setInterval(function () {
        clock.textContent = Math.round((Date.now() - startedAt) / 1000) + " s";
      }, 1000);
    }
  }

  function markPicked() {
    var picked = form.querySelector("input[name=household]:checked");
    form.querySelectorAll(".hl-household").forEach(function (fs) {
      fs.classList.toggle("is-picked", !!picked && fs.dataset.household === picked.value);
    });
  }

  function lookup(then) {
    var value = phone.value.trim();
    if (!value || value === lastLooked) { if (then) then(); return; }
    lastLooked = value;
    var url = form.dataset.lookup + "?phone=" + encodeURIComponent(value);
    fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var old = document.getElementById("hl-pick");
        if (old) old.outerHTML = html;
        markPicked();
        if (then) then();
      })
      .catch(function () { lastLooked = null; });
  }

  function firstCategory() {
    var c = form.querySelector("input[name=category]:checked") || form.querySelector("input[name=category]");
    if (c) c.focus();
  }

  form.addEventListener("keydown", function () { start(); }, { once: true });
  form.addEventListener("pointerdown", function () { start(); }, { once: true });

  phone.addEventListener("input", function () {
    clearTimeout(timer);
    if (digits(phone.value).length >= 11) timer = setTimeout(function () { lookup(); }, 200);
  });
  phone.addEventListener("keydown", function (e) {
    if (e.key === "Enter") {
      e.preventDefault();
      clearTimeout(timer);
      lookup(firstCategory);
    }
  });
  var find = document.getElementById("hl-find");
  if (find) {
    find.addEventListener("click", function (e) {
      e.preventDefault();
      lastLooked = null;
      lookup(firstCategory);
    });
  }

  form.addEventListener("change", function (e) {
    var t = e.target;
    if (t.name === "resident" && t.dataset.household) {
      var h = form.querySelector("input[name=household][value='" + t.dataset.household + "']");
      if (h) h.checked = true;
    }
    if (t.name === "household") {
      var r = form.querySelector("input[name=resident]:checked");
      if (r && r.dataset.household !== t.value) r.checked = false;
    }
    markPicked();
  });

  var sent = false;
  form.addEventListener("submit", function (e) {
    var submitter = e.submitter;
    if (submitter && submitter.name === "find") return;
    if (sent) { e.preventDefault(); return; }
    sent = true;
    var save = document.getElementById("hl-save");
    if (save) save.setAttribute("aria-disabled", "true");
  });
})();
