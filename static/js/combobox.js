// The commune field's suggestions as a WAI-ARIA combobox (APG 1.2, "combobox with listbox popup, list autocomplete
// with manual selection"). The markup (directory/widgets/commune_combobox.html) is a plain search input and an
// empty, hidden <ul role="listbox">: without this script the field is typed in and resolved by the server. Here
// the input becomes the combobox; as one types, the options come from the suggestions URL (the wrapper's
// data-combobox), and their count, worded by the server (data-status of the fragment, French plurals through
// ngettext), goes to base.html's persistent #live-status. The text of this file is never shown to anyone.
//
// Keys in the input: Down/Up move through the options (opening the list on the first or last one), Enter takes the
// highlighted one (the form is not sent), Escape closes the list (and, closed, lets the browser clear the field),
// Home/End, Left/Right return to the text. The focus stays in the input: the highlighted option is its
// aria-activedescendant. A click takes an option; leaving the field closes the list.
(function () {
  "use strict";

  var DELAY_MS = 250;
  var MIN_CHARS = 2;

  function announce(message) {
    var region = document.getElementById("live-status");
    if (!region || !message) { return; }
    // A new node each time, so that the same count after another letter is said again.
    var paragraph = document.createElement("p");
    paragraph.textContent = message;
    region.replaceChildren(paragraph);
  }

  function enhance(wrapper) {
    var input = wrapper.querySelector("input");
    var listbox = wrapper.querySelector("[role='listbox']");
    if (!input || !listbox || !input.id) { return; }
    var url = wrapper.getAttribute("data-combobox");
    var timer = null;
    var controller = null;
    var active = -1;

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", listbox.id);
    input.setAttribute("aria-expanded", "false");

    function options() { return listbox.querySelectorAll("[role='option']"); }
    function isOpen() { return input.getAttribute("aria-expanded") === "true"; }

    function highlight(index) {
      var all = options();
      active = index;
      for (var i = 0; i < all.length; i++) { all[i].setAttribute("aria-selected", i === index ? "true" : "false"); }
      if (index < 0 || index >= all.length) {
        active = -1;
        input.removeAttribute("aria-activedescendant");
        return;
      }
      input.setAttribute("aria-activedescendant", all[index].id);
      all[index].scrollIntoView({ block: "nearest" });
    }

    function open() {
      if (!options().length) { return; }
      listbox.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function close() {
      highlight(-1);
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
    }

    function choose(option) {
      input.value = option.getAttribute("data-value");
      close();
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function show(html) {
      var fragment = document.createElement("template");
      fragment.innerHTML = html;
      var answer = fragment.content.querySelector("ul");
      var items = answer ? answer.querySelectorAll("[role='option']") : [];
      close();
      listbox.replaceChildren();
      for (var i = 0; i < items.length; i++) {
        items[i].id = listbox.id + "-" + i;
        items[i].setAttribute("aria-selected", "false");
        listbox.appendChild(items[i]);
      }
      if (document.activeElement !== input) { return; }  // the person has moved on
      if (answer) { announce(answer.getAttribute("data-status")); }
      open();
    }

    function fetchOptions() {
      var text = input.value.trim();
      if (text.length < MIN_CHARS) {
        close();
        listbox.replaceChildren();
        return;
      }
      controller = new AbortController();
      var query = new URLSearchParams({ commune: text });
      fetch(url + "?" + query.toString(), { headers: { Accept: "text/html" }, signal: controller.signal })
        .then(function (response) { return response.ok ? response.text() : ""; })
        .then(show)
        .catch(function () { /* aborted by a newer letter, or offline: the field still takes typed text */ });
    }

    input.addEventListener("input", function () {
      // An answer for fewer letters must not open, nor be announced, over the next one.
      if (controller) { controller.abort(); controller = null; }
      clearTimeout(timer);
      timer = setTimeout(fetchOptions, DELAY_MS);
    });

    input.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey) { return; }
      var count = options().length;
      switch (event.key) {
        case "ArrowDown":
          if (!count) { return; }
          event.preventDefault();
          if (!isOpen()) { open(); if (!event.altKey) { highlight(0); } return; }
          highlight(active < 0 || active === count - 1 ? 0 : active + 1);
          return;
        case "ArrowUp":
          if (!count) { return; }
          event.preventDefault();
          if (!isOpen()) { open(); highlight(count - 1); return; }
          highlight(active <= 0 ? count - 1 : active - 1);
          return;
        case "Enter":
          if (isOpen() && active >= 0) {
            event.preventDefault();  // takes the commune; the next Enter sends the form
            choose(options()[active]);
          }
          return;
        case "Escape":
          if (isOpen()) {
            event.preventDefault();  // a search input would also clear its text
            close();
          }
          return;
        case "Home":
        case "End":
        case "ArrowLeft":
        case "ArrowRight":
          highlight(-1);  // back to the text, the caret moved by the browser
          return;
        default:
          return;
      }
    });

    input.addEventListener("blur", close);
    // Pressing an option would blur the input (and close the list) before the click: keep the focus in the input.
    listbox.addEventListener("mousedown", function (event) { event.preventDefault(); });
    listbox.addEventListener("click", function (event) {
      var option = event.target.closest("[role='option']");
      if (option) { choose(option); }
    });
  }

  function start() {
    var wrappers = document.querySelectorAll("[data-combobox]");
    for (var i = 0; i < wrappers.length; i++) { enhance(wrappers[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
