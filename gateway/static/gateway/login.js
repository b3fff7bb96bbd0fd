// Follows a QR login: Server-Sent Events (EventSource reconnects by itself), with a JSON poll as
// fallback. On "verified" the browser posts the finish form, which opens its session.
(function () {
  "use strict";
  var box = document.getElementById("login");
  if (!box) { return; }
  var stateEl = document.getElementById("state");
  var reasonEl = document.getElementById("reason");
  var done = false;

  function show(login) {
    if (done) { return; }
    stateEl.textContent = login.state;
    stateEl.className = "state-" + login.state;
    if (login.state === "verified") {
      done = true;
      document.getElementById("continue").hidden = false;
      document.getElementById("finish").submit();
    } else if (login.state === "failed" || login.state === "expired") {
      done = true;
      reasonEl.textContent = login.reason || login.state;
      reasonEl.hidden = false;
      document.getElementById("retry").hidden = false;
    }
  }

  function poll() {
    if (done) { return; }
    fetch(box.dataset.state, {headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(show)
      .catch(function () {})
      .finally(function () { if (!done) { setTimeout(poll, 1000); } });
  }

  if (!window.EventSource) { poll(); return; }
  var source = new EventSource(box.dataset.events);
  source.addEventListener("state", function (event) {
    show(JSON.parse(event.data));
    if (done) { source.close(); }
  });
  source.onerror = function () {
    // The stream ended or dropped: EventSource retries; a JSON read keeps the page current.
    if (!done) { fetch(box.dataset.state).then(function (r) { return r.json(); }).then(show)
      .catch(function () {}); }
    if (done) { source.close(); }
  };
})();
