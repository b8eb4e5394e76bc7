/* The phone camera reading QR codes, shared by the scanner page (scan.js) and the guard page
   (guard.js): BarcodeDetector when the browser has one that reads QR, else the vendored jsQR
   (loaded on first use from the URL the page gives); the stream, the frame loop, and the same card
   held in front of the camera read once. It holds no user-facing strings and touches nothing but
   the <video> it is given: each page shows its own notes, buttons and answers.

     var cam = QrCamera.create(videoEl, { jsqr: url, onCode: fn, onStream: fn, video: {...} });
     cam.start()  -> a promise: resolved once the picture plays and frames are being read;
                     rejected with the getUserMedia error (the camera released again)
     cam.stop()   -> camera released, loop stopped (safe to call at any time)
     cam.on()     -> whether the camera is open
     QrCamera.supported()   -> whether the browser can open a camera here
     QrCamera.problem(err)  -> "denied", "missing" or "failed": which message the page shows */
(function () {
  "use strict";

  var FRAME_MS = 120;
  var REPEAT_MS = 3000;

  function supported() {
    return !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  }

  function problem(err) {
    var name = err && err.name;
    if (name === "NotAllowedError" || name === "SecurityError") return "denied";
    if (name === "NotFoundError" || name === "OverconstrainedError") return "missing";
    return "failed";
  }

  function loadJsQR(url) {
    if (window.jsQR) return Promise.resolve(window.jsQR);
    return new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      s.src = url;
      s.onload = function () { window.jsQR ? resolve(window.jsQR) : reject(new Error("jsQR")); };
      s.onerror = reject;
      document.head.appendChild(s);
    });
  }

  function create(video, opts) {
    var stream = null;
    var detector = null;      // BarcodeDetector when the browser has one that reads QR
    var canvas = null;
    var ctx2d = null;
    var frameTimer = null;
    var lastText = "";
    var lastSeen = 0;

    function jsQR() { return loadJsQR(opts.jsqr); }

    function pickDecoder() {
      if ("BarcodeDetector" in window && window.BarcodeDetector.getSupportedFormats) {
        return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
          if (formats.indexOf("qr_code") >= 0) {
            detector = new window.BarcodeDetector({ formats: ["qr_code"] });
            return;
          }
          return jsQR();
        }, jsQR);
      }
      return jsQR();
    }

    function decodeFrame() {
      if (!stream || video.readyState < 2 || !video.videoWidth) return Promise.resolve(null);
      if (detector) {
        return detector.detect(video).then(function (codes) {
          return codes.length ? codes[0].rawValue : null;
        }, function () { return null; });
      }
      // jsQR on a frame at most 640 px wide: enough for a pass held at arm's length, and fast.
      var scale = Math.min(1, 640 / video.videoWidth);
      var w = Math.round(video.videoWidth * scale);
      var h = Math.round(video.videoHeight * scale);
      if (!canvas) {
        canvas = document.createElement("canvas");
        ctx2d = canvas.getContext("2d", { willReadFrequently: true });
      }
      if (canvas.width !== w || canvas.height !== h) {
        canvas.width = w;
        canvas.height = h;
      }
      ctx2d.drawImage(video, 0, 0, w, h);
      var code = window.jsQR(ctx2d.getImageData(0, 0, w, h).data, w, h, {
        inversionAttempts: "dontInvert"
      });
      return Promise.resolve(code ? code.data : null);
    }

    // The same code seen again within 3 s of its last sighting is the same card still in front
    // of the camera: it is not passed on again. Out of sight for 3 s, it counts as a new scan.
    function decoded(text) {
      var key = (text || "").trim().toUpperCase();
      if (!key) return;
      var now = Date.now();
      var repeat = key === lastText && now - lastSeen < REPEAT_MS;
      lastText = key;
      lastSeen = now;
      if (!repeat) opts.onCode(text);
    }

    function loop() {
      frameTimer = null;
      if (!stream) return;
      decodeFrame().then(function (text) {
        if (text) decoded(text);
      }).catch(function () { /* a bad frame: try the next one */ }).then(function () {
        if (stream) frameTimer = setTimeout(loop, FRAME_MS);
      });
    }

    function stop() {
      if (frameTimer) clearTimeout(frameTimer);
      frameTimer = null;
      if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
      stream = null;
      video.srcObject = null;
    }

    function start() {
      return navigator.mediaDevices.getUserMedia({
        audio: false,
        video: opts.video || { facingMode: { ideal: "environment" } }
      }).then(function (s) {
        stream = s;
        video.srcObject = s;
        if (opts.onStream) opts.onStream();
        var played = video.play();
        if (played && played.catch) played = played.catch(function () { /* autoplay refused */ });
        return Promise.all([pickDecoder(), played]);
      }).then(function () {
        loop();
      }, function (err) {
        stop();
        throw err;
      });
    }

    return { start: start, stop: stop, on: function () { return !!stream; } };
  }

  window.QrCamera = { create: create, supported: supported, problem: problem };
})();
