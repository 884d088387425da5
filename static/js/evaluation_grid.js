// The evaluator's grid (templates/evaluations/grid.html), moved out of the page for the content security policy.
(function () {
  "use strict";
  // Progressive enhancement: live counters, "Tout acquis" per sub-domain, a warning before losing changes.
  var grid = document.getElementById("grille");
  var closeForm = document.getElementById("cloture");
  var dirty = false;
  function refresh(group) {
    var acquired = Number(group.dataset.before) + group.querySelectorAll('input[value="acquired"]:checked').length;
    var missingMandatory = group.querySelectorAll('tr[data-mandatory] input[value="acquired"]:not(:checked)').length;
    var ok = acquired >= Number(group.dataset.required) && missingMandatory === 0;
    var status = group.querySelector("[data-status]");
    group.querySelector("[data-acquired]").textContent = acquired;
    status.textContent = ok ? status.dataset.ok : status.dataset.ko;
    status.className = "badge " + (ok ? "badge--success" : "badge--neutral");
  }
  grid.querySelectorAll("tbody[data-subdomain]").forEach(function (group) {
    var button = group.querySelector("[data-all-acquired]");
    button.hidden = false;
    button.addEventListener("click", function () {
      group.querySelectorAll('input[value="acquired"]').forEach(function (radio) { radio.checked = true; });
      dirty = true;
      refresh(group);
    });
  });
  grid.addEventListener("change", function (event) {
    dirty = true;
    var group = event.target.closest("tbody[data-subdomain]");
    if (group) { refresh(group); }
  });
  grid.addEventListener("submit", function () { dirty = false; });
  closeForm.addEventListener("submit", function (event) {
    if (dirty && !window.confirm(closeForm.dataset.unsaved)) { event.preventDefault(); return; }
    dirty = false;
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });
})();
