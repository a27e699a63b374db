// casewire's console: the little script it has. Pages work without it; with it, the send
// box says what a text will cost as it is typed.
"use strict";
document.querySelectorAll("form[data-cost]").forEach(function (form) {
  var box = form.querySelector("textarea[name=body]");
  var out = document.getElementById("cost");
  var csrf = form.querySelector("input[name=csrf]").value;
  var timer = null;
  box.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var body = new URLSearchParams({ csrf: csrf, text: box.value });
      fetch(form.dataset.cost, { method: "POST", body: body, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (cost) { if (cost) { out.textContent = cost.said; } });
    }, 150);
  });
});

// Copy buttons: put the named field's value on the clipboard, and say so.
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  button.addEventListener("click", function () {
    var field = document.getElementById(button.dataset.copy);
    field.select();
    if (navigator.clipboard) { navigator.clipboard.writeText(field.value); }
    button.textContent = button.dataset.copied || button.textContent;
  });
});
