// The delivery board's resting countdown: counts down to the release time, then reloads so the
// "Release" button is enabled (the server decides; this only shows the time left).
(function () {
  var el = document.querySelector(".b-countdown");
  if (!el) return;
  var end = Date.now() + parseInt(el.dataset.seconds || "0", 10) * 1000;
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var left = Math.max(0, Math.round((end - Date.now()) / 1000));
    el.textContent = Math.floor(left / 3600) + ":" + pad(Math.floor(left / 60) % 60) + ":" + pad(left % 60);
    if (left === 0) { window.location.reload(); return; }
    setTimeout(tick, 1000);
  }
  tick();
})();
