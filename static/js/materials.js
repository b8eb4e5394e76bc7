// Movement forms: show what is in stock at the chosen place for the chosen item.
(function () {
  var data = document.getElementById("mat-stock");
  var form = document.querySelector("form.mat-move");
  if (!data || !form) return;
  var stock = JSON.parse(data.textContent);
  var item = form.querySelector("#id_item");
  function show() {
    form.querySelectorAll(".mat-have").forEach(function (p) {
      var place = form.querySelector("#" + p.dataset.for);
      if (!item || !place || !item.value || !place.value) { p.textContent = ""; return; }
      var q = stock[item.value + "-" + place.value] || 0;
      p.textContent = (window.MAT_IN_STOCK || "In stock here:") + " " + q;
    });
  }
  form.addEventListener("change", show);
  show();
})();
