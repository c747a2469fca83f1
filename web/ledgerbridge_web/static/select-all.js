// "Select all" boxes: <input type="checkbox" data-select-all="CSS selector"> ticks or clears every box the
// selector finds. A file rather than onclick attributes, because the content policy refuses inline scripts.
document.addEventListener("change", function (event) {
  var box = event.target;
  if (!(box instanceof HTMLInputElement) || !box.dataset.selectAll) return;
  document.querySelectorAll(box.dataset.selectAll).forEach(function (other) {
    other.checked = box.checked;
  });
});
