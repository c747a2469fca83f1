// "Add a line" on the invoice form asks the server for the next empty row with htmx, so it needs JavaScript:
// the button is rendered hidden and shown here. Without JavaScript the form has its empty rows, and saving
// then editing again gives three more. A file rather than inline script, because the content policy refuses those.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-add-line]").forEach(function (button) {
    button.hidden = false;
  });
});
document.addEventListener("htmx:afterSettle", function (event) {
  // Once the new row is in (and its item picker made by picker.js), the person carries on typing there.
  var target = event.detail.target;
  if (!target || target.id !== "lines-body") return;
  var rows = target.querySelectorAll("tr[id^='line-']");
  var field = rows.length && rows[rows.length - 1].querySelector(".picker-input, select");
  if (field) field.focus();
});
