/* The relief list's scan box: a keyboard-wedge scanner (or a person) types into the input and
   presses Enter — plain form post, no script needed. With a camera, the "Camera" button reads
   the household card's pass QR with jsQR (the vendored copy the scanner page uses) and posts the
   same form. Strings come from the page (data- attributes); this file holds none. */
(function () {
  "use strict";
  var form = document.getElementById("rl-scan");
  if (!form || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
  var input = document.getElementById("rl-token");
  var button = document.getElementById("rl-camera");
  var video = document.getElementById("rl-video");
  var note = document.getElementById("rl-camera-note");
  var stream = null, canvas = null, ctx = null, timer = null;
  button.hidden = false;

  function loadJsQR() {
    if (window.jsQR) return Promise.resolve();
    return new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      s.src = form.getAttribute("data-jsqr");
      s.onload = resolve;
      s.onerror = reject;
      document.head.appendChild(s);
    });
  }

  function stop() {
    if (timer) clearInterval(timer);
    timer = null;
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    video.hidden = true;
  }

  function frame() {
    if (!video.videoWidth) return;
    var scale = Math.min(1, 640 / video.videoWidth);
    var w = Math.round(video.videoWidth * scale), h = Math.round(video.videoHeight * scale);
    if (!canvas) {
      canvas = document.createElement("canvas");
      ctx = canvas.getContext("2d", { willReadFrequently: true });
    }
    canvas.width = w;
    canvas.height = h;
    ctx.drawImage(video, 0, 0, w, h);
    var code = window.jsQR(ctx.getImageData(0, 0, w, h).data, w, h, { inversionAttempts: "dontInvert" });
    if (code && code.data) {
      stop();
      input.value = code.data;
      form.submit();
    }
  }

  button.addEventListener("click", function () {
    if (stream) { stop(); return; }
    loadJsQR().then(function () {
      return navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    }).then(function (s) {
      stream = s;
      video.srcObject = s;
      video.hidden = false;
      video.play();
      timer = setInterval(frame, 150);
    }).catch(function () {
      note.hidden = false;
      note.textContent = button.getAttribute("data-denied");
    });
  });
})();
