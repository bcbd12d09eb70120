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

// Phone width (app.css, max-width 40rem): a list table becomes stacked rows, each cell shown
// with its column header. The label is copied from the header cell, so the templates keep one
// copy of each translated heading. Tables of figures (data-tabular) keep their columns.
(function () {
  "use strict";
  function label(table) {
    if (table.hasAttribute("data-tabular") || !table.tHead || !table.tHead.rows.length) { return; }
    var head = table.tHead.rows[table.tHead.rows.length - 1].cells;
    var names = [];
    for (var h = 0; h < head.length; h++) {
      for (var s = 0; s < (head[h].colSpan || 1); s++) { names.push(head[h].textContent.replace(/\s+/g, " ").trim()); }
    }
    var bodies = Array.prototype.slice.call(table.tBodies);
    if (table.tFoot) { bodies.push(table.tFoot); }
    bodies.forEach(function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var col = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          if (cell.tagName === "TD" && !cell.hasAttribute("data-label")) {
            cell.setAttribute("data-label", (cell.colSpan || 1) > 1 ? "" : (names[col] || ""));
          }
          col += cell.colSpan || 1;
        });
      });
    });
    table.classList.add("stacked");
  }
  function labelAll(root) {
    if (root.tagName === "TABLE") { label(root); }
    Array.prototype.forEach.call(root.querySelectorAll("table"), label);
  }
  labelAll(document);
  document.addEventListener("htmx:load", function (e) { labelAll(e.detail && e.detail.elt ? e.detail.elt : document); });
})();
