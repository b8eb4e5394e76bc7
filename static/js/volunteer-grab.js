/* Grabbing a place on the list of tasks (volunteers/open.html): a press of a card's "grab"
   button (form.vgrab) is sent as one small JSON request to the quick grab endpoint
   (POST /volunteers/grab/, views/grab_quick.py) with the page's grab key in a header, and the
   card shows the answer in place: a place, the number on the waiting list, or why not. All the
   text comes from the server, in the volunteer's language. When the network or the key fails
   (an expired page, a server error) the form is sent as it is, the way it works without this
   script. */
(function () {
  "use strict";

  function show(form, kind, text) {
    var p = document.createElement("p");
    p.className = "flash " + kind;
    p.setAttribute("role", kind === "error" ? "alert" : "status");
    p.textContent = text;
    form.replaceWith(p);
  }

  function plain(form) {
    form.dataset.plain = "1";
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  }

  function grab(form) {
    var button = form.querySelector("button");
    if (button) button.disabled = true;
    fetch(form.getAttribute("data-grab-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "X-Shouwang-Grab": form.getAttribute("data-grab-key")
      },
      body: JSON.stringify({ task: Number(form.getAttribute("data-task")) })
    }).then(function (r) {
      return r.json().then(function (a) { return { status: r.status, a: a }; },
        function () { return { status: r.status, a: null }; });
    }).then(function (res) {
      var a = res.a;
      if (!a || res.status === 401 || res.status >= 500) return plain(form);
      if (a.ok) show(form, a.status === "taken" ? "success" : "warning", a.message);
      else show(form, "error", a.message);
    }, function () { plain(form); });
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.classList || !form.classList.contains("vgrab") || form.dataset.plain) return;
    if (!window.fetch || !form.getAttribute("data-grab-key")) return;
    e.preventDefault();
    if (form.dataset.busy) return;
    form.dataset.busy = "1";
    grab(form);
  });
})();
