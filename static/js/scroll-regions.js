/*
 * A table wider than the screen scrolls inside its .table-responsive box; a box that scrolls must be reachable
 * with the keyboard and named (WCAG 2.1.1 and 4.1.2). A template that says so itself (role="region", a label,
 * tabindex="0") is left alone; the other boxes get it here, and only while they really scroll, so that a table
 * that fits adds no stop to the tab order. Without this file, Chromium and Firefox still let the keyboard scroll.
 */
(function () {
  "use strict";
  var counter = 0;

  function labelId(box) {
    var named = box.querySelector("caption");
    for (var node = box; !named && node && node !== document.body; node = node.parentElement) {
      for (var sibling = node.previousElementSibling; sibling; sibling = sibling.previousElementSibling) {
        if (/^H[1-6]$/.test(sibling.tagName)) { named = sibling; break; }
      }
    }
    if (!named) { return null; }
    if (!named.id) { counter += 1; named.id = "scroll-region-label-" + counter; }
    return named.id;
  }

  function update() {
    var boxes = document.querySelectorAll(".table-responsive:not([tabindex]), .table-responsive[data-scroll-region]");
    Array.prototype.forEach.call(boxes, function (box) {
      box.setAttribute("data-scroll-region", "");
      if (box.scrollWidth > box.clientWidth + 1) {
        var id = labelId(box);
        box.setAttribute("tabindex", "0");
        if (id) {
          box.setAttribute("role", "region");
          box.setAttribute("aria-labelledby", id);
        }
      } else {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-labelledby");
      }
    });
  }

  var pending = null;
  function later() {
    if (pending) { window.clearTimeout(pending); }
    pending = window.setTimeout(update, 150);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", update);
  } else {
    update();
  }
  window.addEventListener("resize", later);
  document.addEventListener("htmx:afterSettle", later);
})();
