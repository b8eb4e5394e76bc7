// On a phone the main menu is one sideways-scrolling row: bring the current page's link into
// view, so the menu opens where the user is.
(function () {
  var current = document.querySelector(".mainnav [aria-current]");
  if (!current) return;
  var nav = current.parentElement;
  if (nav.scrollWidth <= nav.clientWidth) return;
  nav.scrollLeft = current.offsetLeft - (nav.clientWidth - current.offsetWidth) / 2;
})();
