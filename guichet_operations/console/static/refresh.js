// The deadline board reloads itself: the number of seconds is in the body's data-refresh attribute.
(function () {
  var seconds = parseInt(document.body.getAttribute("data-refresh"), 10);
  if (seconds > 0) {
    window.setTimeout(function () { window.location.reload(); }, seconds * 1000);
  }
})();
