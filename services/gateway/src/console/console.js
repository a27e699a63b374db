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

// A new campaign: whom its audience reaches and what it costs, said as the filters are
// filled, and each text's segments as it is typed.
document.querySelectorAll("form[data-audience]").forEach(function (form) {
  var out = document.getElementById("reach");
  var timer = null;
  var ask = function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      fetch(form.dataset.audience, {
        method: "POST", body: new URLSearchParams(new FormData(form)), credentials: "same-origin"
      })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (reach) { if (reach) { out.textContent = reach.said; } });
    }, 300);
  };
  form.querySelectorAll("fieldset:first-of-type input, fieldset:first-of-type select, input[name=exclude_days]")
    .forEach(function (field) { field.addEventListener("input", ask); });
  var csrf = form.querySelector("input[name=csrf]").value;
  form.querySelectorAll("textarea[data-counter]").forEach(function (box) {
    var said = document.getElementById(box.dataset.counter);
    var wait = null;
    box.addEventListener("input", function () {
      clearTimeout(wait);
      wait = setTimeout(function () {
        fetch("/console/segments", {
          method: "POST", body: new URLSearchParams({ csrf: csrf, text: box.value }), credentials: "same-origin"
        })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (cost) { if (cost) { said.textContent = cost.said; } });
      }, 150);
    });
  });
});

// A running campaign's progress, asked again every five seconds until it stops running.
(function poll() {
  var section = document.querySelector("section[data-live]");
  if (!section) { return; }
  setTimeout(function () {
    fetch(section.dataset.live, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html) { section.outerHTML = html; }
        poll();
      });
  }, 5000);
})();
