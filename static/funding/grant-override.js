// The grant form: the override reason appears as soon as the amount typed exceeds the amount requested or the
// agreement's date is in the future (the server refuses either without a reason, and shows the field itself when
// this script does not run).
(function () {
  "use strict";

  function cents(text) {
    // "1 234,50", "1234.5", "1 234 €" → 123450; NaN for anything else (the server says what is wrong).
    var cleaned = String(text || "").replace(/[\s\u00a0\u202f€]/g, "").replace(",", ".");
    if (!/^\d+(\.\d{1,2})?$/.test(cleaned)) {
      return NaN;
    }
    return Math.round(parseFloat(cleaned) * 100);
  }

  function setUp() {
    var box = document.querySelector("[data-grant-override]");
    if (!box) {
      return;
    }
    var form = box.closest("form");
    var amount = form.querySelector("[name=granted_cents]");
    var date = form.querySelector("[name=granted_on]");
    var reason = box.querySelector("textarea");
    var requested = parseInt(box.getAttribute("data-requested-cents"), 10);
    var today = box.getAttribute("data-today");

    function update() {
      var above = cents(amount.value) > requested;
      var future = Boolean(date.value) && date.value > today;
      box.hidden = !(above || future || (reason && reason.value.trim()));
    }

    form.addEventListener("input", update);
    form.addEventListener("change", update);
    update();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
