// The error summary of a page posted back with errors (templates/includes/error_summary.html): focused on load,
// so that the person starts from it rather than from the top of a page whose errors may be far below; its
// links move the focus to the field concerned, not only the scroll. A summary swapped in by htmx keeps its links
// working (the listener sits on the document); the focus after a swap is static/js/live-region.js's business.
(function () {
  "use strict";
  if (window.cleaErrorSummary) { return; }  // base.html loads it; a page may load it again
  window.cleaErrorSummary = true;

  // A field rendered by hand (a table of radios) is linked through its container: focus its first enabled input.
  function focusable(target) {
    if (target.matches("input, select, textarea, button, [tabindex]")) { return target; }
    return target.querySelector("input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled])") || target;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-error-summary] a[href^='#']");
    var target = link && document.getElementById(link.getAttribute("href").slice(1));
    if (!target) { return; }
    event.preventDefault();
    target = focusable(target);
    target.focus();
    target.scrollIntoView({ block: "center" });
  });

  function ready() {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) { summary.focus(); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
