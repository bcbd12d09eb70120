// Dayaq: shows a warning shortly before the session's idle timeout. No inline script (CSP).
(function () {
  "use strict";
  var idle = parseInt(document.body.getAttribute("data-idle") || "0", 10);
  var box = document.getElementById("timeout-warning");
  if (!idle || !box || !document.getElementById("sign-out")) { return; }
  var warnAt = Math.max(idle - 120, Math.floor(idle * 0.8));
  var timer;
  function arm() {
    clearTimeout(timer);
    box.hidden = true;
    timer = setTimeout(function () { box.hidden = false; }, warnAt * 1000);
  }
  document.addEventListener("htmx:afterRequest", arm);
  arm();
})();
