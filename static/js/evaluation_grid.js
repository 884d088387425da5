// The evaluator's grid (templates/evaluations/grid.html), moved out of the page for the content security policy.
(function () {
  "use strict";
  // Progressive enhancement: live counters, "Tout acquis" per sub-domain, comment boxes shown on demand, the focus
  // back on the last changed criterion after a save, a warning before losing changes.
  var grid = document.getElementById("grille");
  var closeForm = document.getElementById("cloture");
  var dirty = false;
  function refresh(group) {
    var acquired = Number(group.dataset.before) + group.querySelectorAll('input[value="acquired"]:checked').length;
    var missingMandatory = group.querySelectorAll('[data-mandatory] input[value="acquired"]:not(:checked)').length;
    var ok = acquired >= Number(group.dataset.required) && missingMandatory === 0;
    var status = group.querySelector("[data-status]");
    // The live region is atomic: both changes are read out together, once.
    group.querySelector("[data-acquired]").textContent = acquired;
    status.textContent = ok ? status.dataset.ok : status.dataset.ko;
    status.className = "badge " + (ok ? "badge--success" : "badge--neutral");
  }
  function showComments(group, toggle, shown) {
    // Empty comment boxes only: a comment already written (or refused) stays in sight.
    group.querySelectorAll("[data-comment-optional]").forEach(function (box) { box.hidden = !shown; });
    toggle.setAttribute("aria-expanded", shown ? "true" : "false");
  }
  grid.querySelectorAll("[data-subdomain]").forEach(function (group) {
    var toolbar = group.querySelector("[data-toolbar]");
    toolbar.hidden = false;
    var button = group.querySelector("[data-all-acquired]");
    button.addEventListener("click", function () {
      group.querySelectorAll('input[value="acquired"]').forEach(function (radio) { radio.checked = true; });
      dirty = true;
      refresh(group);
    });
    // One Tab stop per sub-domain instead of one comment box per criterion: 107 stops fewer on the CléA grid.
    var toggle = group.querySelector("[data-comments-toggle]");
    var boxes = group.querySelectorAll("[data-comment-optional]");
    if (!boxes.length) { return; }
    toggle.hidden = false;
    toggle.setAttribute("aria-controls", Array.prototype.map.call(boxes, function (box) {
      return box.querySelector("textarea").id;
    }).join(" "));
    showComments(group, toggle, false);
    toggle.addEventListener("click", function () {
      var shown = toggle.getAttribute("aria-expanded") !== "true";
      showComments(group, toggle, shown);
    });
  });
  // The sub-domain's toolbar: one Tab stop, arrow keys (and Home/End) move between its visible buttons.
  grid.querySelectorAll("[data-toolbar]").forEach(function (toolbar) {
    function buttons() { return Array.prototype.filter.call(toolbar.querySelectorAll("button"), function (b) { return !b.hidden; }); }
    function rove(target) {
      buttons().forEach(function (b) { b.tabIndex = b === target ? 0 : -1; });
    }
    rove(buttons()[0]);
    toolbar.addEventListener("keydown", function (event) {
      var list = buttons(), index = list.indexOf(document.activeElement), next = null;
      if (index < 0) { return; }
      if (event.key === "ArrowRight" || event.key === "ArrowDown") { next = list[(index + 1) % list.length]; }
      else if (event.key === "ArrowLeft" || event.key === "ArrowUp") { next = list[(index - 1 + list.length) % list.length]; }
      else if (event.key === "Home") { next = list[0]; }
      else if (event.key === "End") { next = list[list.length - 1]; }
      if (!next) { return; }
      event.preventDefault();
      rove(next);
      next.focus();
    });
    toolbar.addEventListener("focusin", function (event) { rove(event.target); });
  });
  grid.addEventListener("change", function (event) {
    dirty = true;
    var group = event.target.closest("[data-subdomain]");
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

  // Back from a save (#criterion-<id>): the focus on that criterion's checked radio, where the evaluator was, so
  // that Tab goes on to the next criterion. An error summary, when there is one, keeps the focus.
  function backToCriterion() {
    var match = /^#criterion-(\d+)$/.exec(window.location.hash);
    var criterion = match && document.getElementById("criterion-" + match[1]);
    if (!criterion || document.querySelector("[data-error-summary]")) { return; }
    var radio = criterion.querySelector("input[type=radio]:checked") || criterion.querySelector("input[type=radio]");
    radio.focus({ preventScroll: true });
    criterion.scrollIntoView({ block: "center" });
    // The "Brouillon enregistré" status was in the page at load, which screen readers do not read out: written
    // again once the page is up, it is announced after the focused criterion.
    var status = document.querySelector(".messages[role=status]");
    if (status) {
      var messages = Array.prototype.slice.call(status.childNodes);
      status.replaceChildren();
      window.setTimeout(function () { status.replaceChildren.apply(status, messages); }, 500);
    }
  }
  // After the load: the browser's own move to the fragment (a fieldset, not focusable) would take the focus back.
  if (document.readyState === "complete") {
    backToCriterion();
  } else {
    window.addEventListener("load", function () { window.setTimeout(backToCriterion, 0); });
  }
})();
