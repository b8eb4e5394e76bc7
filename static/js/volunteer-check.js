/* The volunteer's check-in page (volunteers/check.html): the place's QR read by the phone camera
   (qr-camera.js) fills the code field and sends the form; without a camera the volunteer types
   the code under the QR. The server does the rest (checkin.check_by_code): the form works
   without this script. */
(function () {
  "use strict";

  var root = document.getElementById("vol-check");
  if (!root) return;
  var form = document.getElementById("vol-check-form");
  var input = form.querySelector("input[name=code]");
  var camButton = document.getElementById("vol-camera");
  var camNote = document.getElementById("vol-camera-note");
  var videoBox = document.getElementById("vol-video");
  var video = document.getElementById("vol-video-el");
  var stopButton = document.getElementById("vol-stop");
  var stringsEl = document.getElementById("vol-check-strings");
  var S = stringsEl ? JSON.parse(stringsEl.textContent) || {} : {};
  var sent = false;

  function note(text, problem) {
    camNote.textContent = text || "";
    camNote.hidden = !text;
    camNote.classList.toggle("is-problem", !!problem);
  }

  // Typed codes: upper case as they are on the poster, so the field reads like the poster.
  input.addEventListener("input", function () {
    var at = input.selectionStart;
    input.value = input.value.toUpperCase();
    try { input.setSelectionRange(at, at); } catch (e) { /* type=url etc. */ }
  });
  form.addEventListener("submit", function () {
    if (sent) return;
    sent = true;
    document.getElementById("vol-check-send").disabled = true;
  });

  var camera = window.QrCamera ? window.QrCamera.create(video, {
    jsqr: root.getAttribute("data-jsqr"),
    onCode: function (text) {
      if (sent) return;
      input.value = text;
      note(S.sending || "");
      camera.stop();
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
    },
    onStream: function () {
      videoBox.hidden = false;
      camButton.setAttribute("aria-expanded", "true");
    }
  }) : null;

  function stopCamera() {
    camera.stop();
    videoBox.hidden = true;
    camButton.setAttribute("aria-expanded", "false");
    note("");
  }

  function startCamera() {
    camButton.disabled = true;
    note(S.camera_starting);
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
