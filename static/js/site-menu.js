/*
 * The header's menu on small screens (templates/base.html, static/css/clea.css "Menu de l'en-tête").
 * Loaded without defer in <head>: the "js" class is set before the first paint, so the folded menu never
 * flashes open on a phone. Without this file the button stays hidden and the menu open.
 */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function setUp() {
    var button = document.querySelector(".site-header__toggle");
    if (!button) { return; }
    var menu = document.getElementById(button.getAttribute("aria-controls"));
    if (!menu) { return; }

    function setOpen(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
    }

    button.addEventListener("click", function () {
      setOpen(button.getAttribute("aria-expanded") !== "true");
    });
    // Escape closes the open menu and gives the focus back to its button.
    menu.addEventListener("keydown", function (event) {
      // Only while the button is on screen: on a wide screen the menu is always shown and the button hidden.
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true" && button.offsetParent) {
        setOpen(false);
        button.focus();
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
