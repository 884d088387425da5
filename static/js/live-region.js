// After an htmx swap, put the focus where the person can carry on: the first invalid field of the fragment, or
// its message (marked data-swap-focus). Without this the swapped element's button is gone and the focus falls to
// <body>, so the next Tab starts from the top of the page. Announcements go through the persistent role=status
// container of base.html (#live-status), which the fragments fill out of band (templates/includes/live_status.html).
// A polled fragment (data-poll) never takes the focus: it changes under the person's feet.
(function () {
  "use strict";
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    // An outerHTML swap detaches the old target: find its replacement by id.
    if (target && !target.isConnected && target.id) { target = document.getElementById(target.id); }
    if (!target || !target.isConnected || target.closest("[data-poll]")) { return; }
    var next = target.querySelector("[aria-invalid='true']") || target.querySelector("[data-swap-focus]");
    if (!next) { return; }
    next.focus();
  });
})();
