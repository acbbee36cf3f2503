// Upload with a progress bar. Without JavaScript the form posts as usual; with it, the
// same form data goes through XMLHttpRequest so the bar can follow the upload, and the
// page then reloads the work page the server names.
(function () {
  "use strict";
  if (!window.FormData || !window.XMLHttpRequest) { return; }

  var TOO_LARGE = "This upload is larger than your organisation accepts. Nothing was saved.";
  var FAILED = "The upload did not work. Nothing was saved; please try again.";

  function setUp(form) {
    var bar = form.querySelector("progress");
    var status = form.querySelector("[data-upload-status]");
    var button = form.querySelector("button[type=submit]");

    function say(text) { if (status) { status.textContent = text; } }

    function finish(message) {
      if (bar) { bar.hidden = true; }
      if (button) { button.disabled = false; }
      say(message);
    }

    function totalSize() {
      var total = 0;
      var inputs = form.querySelectorAll("input[type=file]");
      for (var i = 0; i < inputs.length; i += 1) {
        for (var j = 0; j < inputs[i].files.length; j += 1) { total += inputs[i].files[j].size; }
      }
      return total;
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      // The server decides; this only spares sending what it would refuse.
      var limit = parseInt(form.getAttribute("data-max-bytes"), 10);
      if (limit > 0 && totalSize() > limit) { finish(TOO_LARGE); return; }
      var request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.setRequestHeader("Accept", "application/json");
      request.upload.addEventListener("progress", function (progress) {
        if (!progress.lengthComputable || !bar) { return; }
        bar.max = progress.total;
        bar.value = progress.loaded;
        say(Math.floor((progress.loaded / progress.total) * 100) + "% sent");
      });
      request.addEventListener("load", function () {
        var answer = null;
        try { answer = JSON.parse(request.responseText); } catch (ignored) { answer = null; }
        if (request.status === 413) { finish(TOO_LARGE); return; }
        if (answer && answer.ok && typeof answer.redirect === "string" &&
            answer.redirect.charAt(0) === "/" && answer.redirect.charAt(1) !== "/") {
          say(answer.message || "Uploaded.");
          window.location.assign(answer.redirect);
          return;
        }
        finish(answer && answer.message ? answer.message : FAILED);
      });
      request.addEventListener("error", function () { finish(FAILED); });
      request.addEventListener("abort", function () { finish(FAILED); });
      if (bar) { bar.value = 0; bar.hidden = false; }
      if (button) { button.disabled = true; }
      say("Sending…");
      request.send(new FormData(form));
    });
  }

  var forms = document.querySelectorAll("form[data-upload]");
  for (var i = 0; i < forms.length; i += 1) { setUp(forms[i]); }
})();
