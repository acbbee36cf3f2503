// The fanzine viewer: one page at a time, with buttons, the keyboard (Left/Right,
// Home/End), swipes, and a zoom to the picture's full size. Without this script every
// page is simply shown in a column; nothing here is needed to read the work.
(function () {
  "use strict";

  function button(text, label) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "secondary";
    b.textContent = text;
    if (label) { b.setAttribute("aria-label", label); }
    return b;
  }

  function setUp(viewer) {
    var pages = Array.prototype.slice.call(viewer.querySelectorAll(".viewer-page"));
    if (!pages.length) { return; }
    var current = 0;
    var zoomed = false;

    var bar = document.createElement("div");
    bar.className = "viewer-bar";
    var previous = button("\u2190 Previous", "Previous page");
    var next = button("Next \u2192", "Next page");
    var zoom = button("Zoom", null);
    zoom.setAttribute("aria-pressed", "false");
    var status = document.createElement("p");
    status.className = "viewer-status";
    status.setAttribute("aria-live", "polite");
    if (pages.length > 1) {
      bar.appendChild(previous);
      bar.appendChild(status);
      bar.appendChild(next);
    }
    bar.appendChild(zoom);
    viewer.insertBefore(bar, viewer.firstChild);

    viewer.classList.add("viewer-on");
    viewer.setAttribute("tabindex", "0");
    viewer.setAttribute("role", "region");
    viewer.setAttribute("aria-roledescription", "page viewer");
    viewer.setAttribute("aria-label", "Pages: use the arrow keys, Home and End to turn them");

    function show(index) {
      current = Math.max(0, Math.min(pages.length - 1, index));
      pages.forEach(function (page, i) { page.hidden = i !== current; });
      status.textContent = "Page " + (current + 1) + " of " + pages.length;
      previous.disabled = current === 0;
      next.disabled = current === pages.length - 1;
    }

    function setZoom(on) {
      zoomed = on;
      viewer.classList.toggle("viewer-zoomed", on);
      zoom.setAttribute("aria-pressed", on ? "true" : "false");
      zoom.textContent = on ? "Fit to screen" : "Zoom";
    }

    previous.addEventListener("click", function () { show(current - 1); });
    next.addEventListener("click", function () { show(current + 1); });
    zoom.addEventListener("click", function () { setZoom(!zoomed); });
    viewer.addEventListener("dblclick", function (event) {
      if (event.target.tagName === "IMG") { setZoom(!zoomed); }
    });

    viewer.addEventListener("keydown", function (event) {
      if (event.altKey || event.ctrlKey || event.metaKey) { return; }
      var moves = { ArrowLeft: current - 1, ArrowRight: current + 1, Home: 0, End: pages.length - 1 };
      if (!Object.prototype.hasOwnProperty.call(moves, event.key)) {
        return;  // Esc and Shift stay with the quick exit
      }
      event.preventDefault();
      show(moves[event.key]);
    });

    // A horizontal swipe turns the page, unless zoomed (then it moves the picture).
    var startX = null;
    var startY = null;
    viewer.addEventListener("pointerdown", function (event) {
      if (event.pointerType === "mouse") { return; }
      startX = event.clientX;
      startY = event.clientY;
    });
    viewer.addEventListener("pointerup", function (event) {
      if (startX === null || zoomed) { startX = null; return; }
      var dx = event.clientX - startX;
      var dy = event.clientY - startY;
      startX = null;
      if (Math.abs(dx) > 50 && Math.abs(dx) > 2 * Math.abs(dy)) {
        show(dx < 0 ? current + 1 : current - 1);
      }
    });
    viewer.addEventListener("pointercancel", function () { startX = null; });

    var match = /^#page-(\d+)$/.exec(window.location.hash);
    show(match ? parseInt(match[1], 10) - 1 : 0);
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-viewer]"), setUp);
}());
