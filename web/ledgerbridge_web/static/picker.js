// Customer and item pickers (web/ledgerbridge_web/pickers.py): each <select data-picker="/route"> becomes a
// combobox (ARIA 1.2 "list autocomplete"): a text field, a listbox htmx fills from the route as one types,
// and a hidden field of the select's name holding the chosen id, so the form posts exactly what the select
// did. Keys: Down/Up move through the options (Down opens the list), Enter chooses, Escape closes the list
// (or, closed, puts back the chosen name). Leaving the field with other text puts back the chosen name; an
// emptied field chooses nothing. A file rather than inline script, because the content policy refuses those.
(function () {
  "use strict";
  var count = 0;

  function options(list) {
    return Array.prototype.slice.call(list.querySelectorAll("li[data-value]"));
  }

  function enhance(select) {
    if (!select.parentNode) return;
    count += 1;
    var chosen = select.selectedOptions[0];
    var blank = select.querySelector("option[value='']");
    var listId = (select.id || "picker-" + count) + "-options";
    var input = document.createElement("input");
    var hidden = document.createElement("input");
    var list = document.createElement("ul");
    var box = document.createElement("div");
    var state = {label: chosen && chosen.value ? chosen.textContent : "", active: -1};

    hidden.type = "hidden";
    hidden.name = select.name;
    hidden.value = chosen ? chosen.value : "";
    input.type = "text";
    input.id = select.id;
    input.className = "picker-input";
    input.value = state.label;
    input.autocomplete = "off";
    input.spellcheck = false;
    input.placeholder = "Type to search" + (select.dataset.noun ? " " + select.dataset.noun + "s" : "");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);
    ["aria-invalid", "aria-describedby"].forEach(function (name) {
      if (select.hasAttribute(name)) input.setAttribute(name, select.getAttribute(name));
    });
    if (select.required) input.setAttribute("aria-required", "true");
    if (blank && blank.textContent) input.title = blank.textContent;
    // htmx asks the option route as one types (the latest request wins), and when the list is opened.
    input.setAttribute("hx-get", select.dataset.picker + "?list=" + encodeURIComponent(listId));
    input.setAttribute("hx-trigger", "input changed delay:150ms, picker-open");
    input.setAttribute("hx-target", "#" + listId);
    input.setAttribute("hx-swap", "innerHTML");
    input.setAttribute("hx-sync", "this:replace");
    list.id = listId;
    list.className = "picker-list";
    list.hidden = true;
    list.setAttribute("role", "listbox");
    var label = select.id && document.querySelector("label[for='" + select.id + "']");
    if (label) list.setAttribute("aria-label", label.textContent.replace("*", "").trim());
    box.className = "picker";
    box.appendChild(input);
    box.appendChild(list);
    box.appendChild(hidden);
    // The hints that say what the field lists without JavaScript no longer apply.
    Array.prototype.slice.call(document.querySelectorAll("[data-picker-hint]")).forEach(function (hint) {
      hint.remove();
    });
    select.replaceWith(box);

    function open() {
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }
    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      state.active = -1;
    }
    function mark(index) {
      var all = options(list);
      if (!all.length) return;
      state.active = Math.max(0, Math.min(index, all.length - 1));
      all.forEach(function (option, i) {
        option.setAttribute("aria-selected", i === state.active ? "true" : "false");
      });
      input.setAttribute("aria-activedescendant", all[state.active].id);
      all[state.active].scrollIntoView({block: "nearest"});
    }
    function choose(option) {
      hidden.value = option.dataset.value;
      state.label = option.dataset.label;
      input.value = state.label;
      close();
      hidden.dispatchEvent(new Event("change", {bubbles: true}));
    }
    function settle() {
      // Whatever was typed but not chosen gives way to the choice; an emptied field chooses nothing.
      if (!input.value.trim()) {
        hidden.value = "";
        state.label = "";
        input.value = "";
      } else if (input.value !== state.label) {
        input.value = state.label;
      }
    }

    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (list.hidden) {
          htmx.trigger(input, "picker-open");
          return;
        }
        mark(state.active + (event.key === "ArrowDown" ? 1 : -1));
      } else if (event.key === "Enter") {
        if (list.hidden) return;  // a closed list: Enter submits the form, as in any field
        event.preventDefault();
        var all = options(list);
        if (state.active >= 0 && all[state.active]) choose(all[state.active]);
        else if (all.length === 1) choose(all[0]);
      } else if (event.key === "Escape") {
        if (!list.hidden) {
          event.preventDefault();
          close();
        } else {
          input.value = state.label;
        }
      }
    });
    input.addEventListener("input", function () {
      if (!input.value.trim()) hidden.value = "";
      // The matches shown are for earlier text until the answer for this text is in.
      if (input.value !== input.dataset.asked) list.setAttribute("aria-busy", "true");
    });
    input.addEventListener("blur", function () {
      close();
      settle();
    });
    input.addEventListener("click", function () {
      if (list.hidden) htmx.trigger(input, "picker-open");
    });
    // Choosing with the mouse: keep the focus in the field so its blur does not close the list first.
    list.addEventListener("mousedown", function (event) {
      event.preventDefault();
    });
    list.addEventListener("click", function (event) {
      var option = event.target.closest("li[data-value]");
      if (option) choose(option);
    });
    box.addEventListener("htmx:afterSwap", function () {
      list.removeAttribute("aria-busy");
      state.active = -1;
      input.removeAttribute("aria-activedescendant");
      if (document.activeElement === input) open();
    });
    htmx.process(input);
  }

  // The search typed so far rides as `q`: the text field has no name, so the form never posts it.
  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    if (!elt.classList || !elt.classList.contains("picker-input")) return;
    event.detail.parameters.q = elt.value;
    elt.dataset.asked = elt.value;
  });

  // On the page and on whatever htmx swaps in later (a line row added to an invoice, say).
  htmx.onLoad(function (root) {
    var scope = root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches("select[data-picker]")) enhance(scope);
    Array.prototype.slice.call(scope.querySelectorAll("select[data-picker]")).forEach(enhance);
  });
})();
