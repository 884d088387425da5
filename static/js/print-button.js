// "Imprimer" buttons ([data-print], e.g. templates/evaluations/summary.html) open the browser's print dialog. A
// file of its own rather than an onclick attribute, which the Content-Security-Policy forbids. Without this script
// the button stays hidden: the browser's own print command still works.
(function () {
  "use strict";

  function setUp() {
    document.querySelectorAll("button[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        window.print();
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
