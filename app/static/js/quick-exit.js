// Quick exit, after GOV.UK's "Exit this page": one click, Esc, or Shift three times.
// The page blanks at once and location.replace() swaps this history entry for a
// neutral site, so Back does not return to Chorus.
(function () {
  "use strict";
  var link = document.getElementById("quick-exit");
  if (!link) { return; }
  var target = link.getAttribute("data-exit-url") || link.href;

  function leave(event) {
    if (event) { event.preventDefault(); }
    document.documentElement.classList.add("exiting");
    document.title = "";
    try { document.body.innerHTML = ""; } catch (e) { /* the redirect still happens */ }
    window.location.replace(target);
  }

  link.addEventListener("click", leave);

  var shiftPresses = 0;
  var shiftTimer = null;
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" || event.key === "Esc") {
      leave(event);
      return;
    }
    if (event.key === "Shift" && !event.repeat) {
      shiftPresses += 1;
      window.clearTimeout(shiftTimer);
      shiftTimer = window.setTimeout(function () { shiftPresses = 0; }, 1000);
      if (shiftPresses >= 3) { leave(event); }
    } else {
      shiftPresses = 0;
    }
  });
}());
