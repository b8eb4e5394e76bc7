// Coverage while the round runs: fetch the table again every few seconds and swap it in,
// without reloading the page (and without moving the reader's scroll position).
(function () {
  "use strict";
  var box = document.getElementById("cv-live");
  if (!box || !box.dataset.liveUrl) return;
  var every = (parseInt(box.dataset.liveSeconds, 10) || 15) * 1000;
  function tick() {
    if (document.hidden) return;
    fetch(box.dataset.liveUrl, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html) box.innerHTML = html; })
      .catch(function () { /* offline for a moment: the next tick tries again */ });
  }
  setInterval(tick, every);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) tick(); });
})();
