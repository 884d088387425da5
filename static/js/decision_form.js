// The jury's decision form: the domains to acquire again belong to a deferral only, so their fieldset shows for
// that decision alone. Hidden boxes are disabled too, so that a box ticked before changing one's mind is not sent.
// Without this script every field shows, and the server checks the decision's consistency all the same.
(function () {
  "use strict";

  function setUp(form) {
    var domains = form.querySelector("[data-decision-domains]");
    if (!domains) {
      return;
    }
    var uses = domains.getAttribute("data-decision-domains");
    var kinds = form.querySelectorAll("input[type=radio][name$='kind']");

    function sync() {
      var chosen = form.querySelector("input[type=radio][name$='kind']:checked");
      var show = chosen !== null && chosen.value === uses;
      domains.hidden = !show;
      domains.querySelectorAll("input[type=checkbox]").forEach(function (box) {
        box.disabled = !show;
      });
    }

    kinds.forEach(function (radio) {
      radio.addEventListener("change", sync);
    });
    // A refusal on the domains stays in sight until the decision changes.
    if (!domains.querySelector(".field--error")) {
      sync();
    }
  }

  document.querySelectorAll("form[data-decision-form]").forEach(setUp);
})();
