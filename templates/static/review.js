/* Review page shortcuts (progressive enhancement; the page works without them).
   j / k: next / previous answer; a: accept it; c: go to its correction control.
   Keys typed in a field, or with Ctrl/Alt/Meta, are left alone. */
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll("#answers tr.answer-row"));
  if (!rows.length) { return; }
  var help = document.getElementById("shortcuts");
  if (help) { help.hidden = false; }
  var current = -1;

  function select(index, scroll) {
    if (index < 0 || index >= rows.length) { return; }
    if (current >= 0) { rows[current].classList.remove("current"); }
    current = index;
    var row = rows[current];
    row.classList.add("current");
    if (scroll) { row.scrollIntoView({block: "center"}); }
    var accept = row.querySelector("button.accept");
    if (accept) { accept.focus({preventScroll: true}); }
  }

  function firstPending() {
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].getAttribute("data-verification") === "pending") { return i; }
    }
    return 0;
  }

  rows.forEach(function (row, i) {
    row.addEventListener("focusin", function () {
      if (current !== i) {
        if (current >= 0) { rows[current].classList.remove("current"); }
        current = i;
        row.classList.add("current");
      }
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey) { return; }
    var target = event.target;
    var tag = target && target.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT" || (tag === "INPUT" && target.type !== "radio" && target.type !== "checkbox")) {
      if (event.key === "Escape" && current >= 0) { select(current, false); }
      return;
    }
    var key = event.key;
    if (key === "j" || key === "k") {
      event.preventDefault();
      if (current < 0) { select(firstPending(), true); return; }
      select(current + (key === "j" ? 1 : -1), true);
    } else if (key === "a" || key === "c") {
      if (current < 0) { select(firstPending(), true); }
      var row = rows[current];
      if (!row) { return; }
      event.preventDefault();
      if (key === "a") {
        var accept = row.querySelector("button.accept");
        if (accept) { accept.click(); }
      } else {
        var control = row.querySelector(".correction input, .correction select");
        if (control) { control.focus(); }
      }
    }
  });

  var hash = window.location.hash ? decodeURIComponent(window.location.hash.slice(1)) : "";
  var start = hash ? rows.findIndex(function (row) { return "a-" + row.getAttribute("data-path") === hash; }) : -1;
  var failed = rows.findIndex(function (row) { return row.classList.contains("has-error"); });
  if (failed >= 0) {
    select(failed, true);
    var invalid = rows[failed].querySelector("[aria-invalid=true]");
    if (invalid) { invalid.focus({preventScroll: true}); }
  } else if (start >= 0) {
    select(Math.min(start + 1, rows.length - 1), true);
  }
})();
