// The kiosk: an exhibition as a full-screen slideshow for events.
// One slide at a time, advancing by itself every data-interval seconds and looping;
// Right/Left arrows move, Space pauses. The first key press (or touch) asks for full
// screen: browsers allow it only after a gesture. The cursor hides after a few seconds
// without movement. Every data-refresh seconds the page is fetched again and its slides
// replace these, so a withdrawn work leaves the screen within that time; a slide whose
// picture fails to load (a withdrawn work's files answer 410 at once) is skipped.
(function () {
  "use strict";
  var container = document.getElementById("kiosk-slides");
  if (!container || !document.documentElement.classList) { return; }
  var body = document.body;
  var interval = (parseInt(body.getAttribute("data-interval"), 10) || 12) * 1000;
  var refresh = (parseInt(body.getAttribute("data-refresh"), 10) || 60) * 1000;
  var status = document.getElementById("kiosk-status");
  var IDLE = 3000;

  var slides = [];
  var current = 0;
  var paused = false;
  var timer = null;
  var idleTimer = null;
  var broken = {}; // work id -> true once one of its pictures failed to load

  document.documentElement.classList.add("kiosk-js");

  function workOf(slide) { return slide.getAttribute("data-work"); }

  function usable(slide) {
    var work = workOf(slide);
    return !(work && broken[work]);
  }

  function failed(work) {
    broken[work] = true;
    if (slides.length && workOf(slides[current]) === work) { advance(1); }
  }

  function watch(slide) {
    var work = workOf(slide);
    if (!work) { return; }
    var images = slide.getElementsByTagName("img");
    for (var i = 0; i < images.length; i += 1) {
      images[i].addEventListener("error", function () { failed(work); });
      // Failed before this script ran: a request was made (currentSrc) and gave nothing.
      if (images[i].complete && images[i].currentSrc && images[i].naturalWidth === 0) {
        broken[work] = true;
      }
    }
  }

  // Start loading a slide's pictures now, so a failure is known before it is shown.
  function warm(slide) {
    var images = slide.getElementsByTagName("img");
    for (var i = 0; i < images.length; i += 1) { images[i].loading = "eager"; }
  }

  function collect() {
    slides = Array.prototype.slice.call(container.querySelectorAll(".kiosk-slide"));
    slides.forEach(watch);
  }

  function show(index) {
    if (!slides.length) { return; }
    slides.forEach(function (slide) { slide.classList.remove("is-current"); });
    current = (index + slides.length) % slides.length;
    var slide = slides[current];
    warm(slide);
    slide.classList.add("is-current");
    warm(slides[(current + 1) % slides.length]);
  }

  function schedule() {
    window.clearTimeout(timer);
    if (!paused) { timer = window.setTimeout(function () { advance(1); }, interval); }
  }

  function advance(step) {
    var index = current;
    for (var tries = 0; tries < slides.length; tries += 1) {
      index = (index + step + slides.length) % slides.length;
      if (usable(slides[index])) { show(index); break; }
    }
    schedule();
  }

  function say(text) { if (status) { status.textContent = text; } }

  function fullscreen() {
    var root = document.documentElement;
    if (document.fullscreenElement || !root.requestFullscreen) { return; }
    var asked = root.requestFullscreen();
    if (asked && asked.catch) { asked.catch(function () { /* not allowed now */ }); }
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" || event.key === "Esc") { return; } // leaves full screen
    fullscreen();
    if (event.key === "ArrowRight" || event.key === "PageDown") {
      event.preventDefault();
      advance(1);
    } else if (event.key === "ArrowLeft" || event.key === "PageUp") {
      event.preventDefault();
      advance(-1);
    } else if (event.key === " " || event.key === "Spacebar") {
      event.preventDefault();
      paused = !paused;
      say(paused ? "Paused. Press Space to continue." : "");
      schedule();
    }
  });
  document.addEventListener("pointerdown", fullscreen);

  function awake() {
    body.classList.remove("kiosk-idle");
    window.clearTimeout(idleTimer);
    idleTimer = window.setTimeout(function () { body.classList.add("kiosk-idle"); }, IDLE);
  }
  document.addEventListener("mousemove", awake);

  // Fetch the page again and take its slides, staying on the same slide if it is
  // still there. On any failure keep showing what there is and try again later.
  function reload() {
    if (!window.fetch || !window.DOMParser) { return; }
    window.fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { throw new Error("kiosk reload: " + response.status); }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html")
          .getElementById("kiosk-slides");
        if (!fresh) { return; }
        var key = slides.length ? slides[current].getAttribute("data-key") : null;
        var adopted = document.adoptNode(fresh);
        container.parentNode.replaceChild(adopted, container);
        container = adopted;
        broken = {};
        collect();
        var index = Math.min(current, slides.length - 1);
        for (var i = 0; i < slides.length; i += 1) {
          if (slides[i].getAttribute("data-key") === key) { index = i; break; }
        }
        show(index);
        if (!usable(slides[current])) { advance(1); }
      })
      .catch(function () { /* the network may be back next time */ });
  }

  collect();
  show(0);
  schedule();
  awake();
  window.setInterval(reload, refresh);
}());
