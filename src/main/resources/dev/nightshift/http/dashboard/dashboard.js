// nightshift dashboard: sends the buttons' actions to the JSON API with the admin token (kept in
// sessionStorage, so it is gone when the tab closes), ticks elapsed times, and refreshes the page
// content every few seconds without a reload.
(function () {
  "use strict";
  var TOKEN_KEY = "nightshift.adminToken";
  var REFRESH_MS = 5000;
  var tokenInput = document.getElementById("token");
  var tokenState = document.getElementById("token-state");
  var dialog = document.getElementById("trigger-dialog");
  var backfillDialog = document.getElementById("backfill-dialog");
  var triggerJob = null;
  var backfillJob = null;

  function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }

  function showTokenState() {
    tokenState.textContent = token() ? "✓ saved" : "";
    tokenState.className = "token-state" + (token() ? " set" : "");
  }

  tokenInput.value = token();
  showTokenState();
  tokenInput.addEventListener("input", function () {
    sessionStorage.setItem(TOKEN_KEY, tokenInput.value.trim());
    showTokenState();
  });
  document.getElementById("token-form").addEventListener("submit", function (e) { e.preventDefault(); });

  var toastTimer = null;
  function toast(text, bad) {
    var t = document.getElementById("toast");
    t.textContent = text;
    t.className = "toast" + (bad ? " bad" : "");
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { t.hidden = true; }, bad ? 8000 : 4000);
  }

  function describe(status, body) {
    if (body && body.error) { return body.error; }
    if (body && body.message) { return body.message; }
    if (body && body.backfill) { return "backfill #" + body.backfill.id + " of " + body.backfill.job + ": " + body.backfill.slots + " slots"; }
    if (body && body.run) { return "run #" + body.run.id + (body.created === false ? " already existed for this key" : " enqueued"); }
    if (body && body.name) { return "job " + body.name + (body.paused ? " paused" : " resumed"); }
    return "HTTP " + status;
  }

  function post(url, payload) {
    if (!token()) {
      toast("Enter the admin token (top right) first.", true);
      tokenInput.focus();
      return Promise.resolve(false);
    }
    return fetch(url, {
      method: "POST",
      headers: { "Authorization": "Bearer " + token(), "Content-Type": "application/json" },
      body: JSON.stringify(payload || {})
    }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (body) {
        toast(describe(r.status, body), !r.ok);
        if (r.ok) { refresh(); }
        return r.ok;
      });
    }, function () {
      toast("The node did not answer.", true);
      return false;
    });
  }

  function parseParams(text) {
    var params = {};
    text.split("\n").forEach(function (line) {
      line = line.trim();
      if (!line) { return; }
      var eq = line.indexOf("=");
      if (eq < 0) { params[line] = ""; } else { params[line.slice(0, eq).trim()] = line.slice(eq + 1); }
    });
    return params;
  }

  document.addEventListener("click", function (e) {
    var button = e.target.closest("button");
    if (!button) { return; }
    if (button.dataset.post) {
      if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) { return; }
      button.disabled = true;
      post(button.dataset.post, button.dataset.at ? { at: button.dataset.at } : null).then(function () { button.disabled = false; });
    } else if (button.dataset.trigger) {
      triggerJob = button.dataset.trigger;
      document.getElementById("trigger-job").textContent = triggerJob;
      document.getElementById("trigger-params").value = "";
      document.getElementById("trigger-key").value = "";
      document.getElementById("trigger-at").value = "";
      dialog.showModal();
    } else if (button.dataset.backfill) {
      backfillJob = button.dataset.backfill;
      document.getElementById("backfill-job").textContent = backfillJob;
      backfillDialog.showModal();
    }
  });

  document.getElementById("backfill-close").addEventListener("click", function () { backfillDialog.close(); });
  document.getElementById("backfill-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var payload = {
      from: document.getElementById("backfill-from").value.trim(),
      to: document.getElementById("backfill-to").value.trim(),
      reprocess: document.getElementById("backfill-reprocess").value,
      reverse: document.getElementById("backfill-reverse").checked
    };
    var max = document.getElementById("backfill-max-active").value.trim();
    if (max) { payload.maxActive = Number(max); }
    post("/api/jobs/" + encodeURIComponent(backfillJob) + "/backfill", payload).then(function (ok) {
      if (ok) { backfillDialog.close(); }
    });
  });

  document.getElementById("trigger-cancel").addEventListener("click", function () { dialog.close(); });
  document.getElementById("trigger-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var payload = { params: parseParams(document.getElementById("trigger-params").value) };
    var key = document.getElementById("trigger-key").value.trim();
    if (key) { payload.key = key; }
    var at = document.getElementById("trigger-at").value.trim();
    if (at) { payload.at = at; }
    post("/api/jobs/" + encodeURIComponent(triggerJob) + "/trigger", payload).then(function (ok) {
      if (ok) { dialog.close(); }
    });
  });

  function span(ms) {
    var s = Math.floor(ms / 1000);
    if (s >= 3600) { return Math.floor(s / 3600) + "h " + Math.floor(s % 3600 / 60) + "m"; }
    if (s >= 60) { return Math.floor(s / 60) + "m " + (s % 60) + "s"; }
    return s + "s";
  }

  // The server renders each elapsed time from the database's clock; the page counts on from
  // when it first saw the value, with the browser's monotonic clock (never Date.now() against a
  // server time: two hosts' clocks differ, and a run that just started showed a negative time).
  function tick() {
    var t = performance.now();
    document.querySelectorAll(".elapsed[data-elapsed-ms]").forEach(function (el) {
      if (!el.dataset.seenAt) { el.dataset.seenAt = String(t); }
      el.textContent = span(Math.max(0, Number(el.dataset.elapsedMs) + t - Number(el.dataset.seenAt)));
    });
  }

  function refresh() {
    fetch(location.pathname + location.search, { headers: { "Accept": "text/html" } }).then(function (r) {
      return r.ok ? r.text() : null;
    }).then(function (html) {
      if (!html) { return; }
      var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("main");
      if (!fresh) { return; }
      // the run's log keeps the lines the log poller appended (and its scroll position)
      var log = document.getElementById("run-log");
      var freshLog = fresh.querySelector("#run-log");
      if (log && freshLog) { freshLog.replaceWith(log); }
      document.getElementById("main").replaceChildren.apply(document.getElementById("main"), Array.from(fresh.childNodes));
    }).catch(function () { /* the next tick tries again */ });
  }

  // A running run's log: new lines from /api/runs/N/log?after=SEQ every second, appended without a
  // reload, until the run has ended and a last poll brought nothing more.
  var LOG_POLL_MS = 1000;
  // "2026-12-08T01:45:28.6455Z" -> "2026-12-08 01:45:28.645", as the server renders a line's time
  function logTime(iso) {
    var m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(iso);
    return m ? m[1] + " " + m[2] + "." + ((m[3] || "") + "000").slice(0, 3) : iso;
  }
  function pollLog() {
    var log = document.getElementById("run-log");
    if (!log || log.dataset.live !== "true") { return; }
    fetch("/api/runs/" + log.dataset.run + "/log?after=" + log.dataset.after, { headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (body) {
          var atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
          body.lines.forEach(function (l) {
            var empty = log.querySelector(".log-empty");
            if (empty) { empty.remove(); }
            var span = document.createElement("span");
            span.className = "log-line level-" + l.level;
            span.dataset.seq = String(l.seq);
            span.textContent = logTime(l.time) + " " + (l.level + "       ").slice(0, 7) + " [" + l.attempt + "] " + l.text;
            log.appendChild(span);
            log.appendChild(document.createTextNode("\n"));
          });
          log.dataset.after = String(body.next);
          if (atBottom) { log.scrollTop = log.scrollHeight; }
          var ended = ["succeeded", "dead", "cancelled"].indexOf(body.state) >= 0;
          // a node writes a run's last lines up to 0.2 s after the run ends: two quiet polls after the end
          var quiet = ended && body.lines.length === 0 ? Number(log.dataset.quiet || 0) + 1 : 0;
          log.dataset.quiet = String(quiet);
          if (quiet >= 2) { log.dataset.live = "false"; return; }
        }
        setTimeout(pollLog, LOG_POLL_MS);
      }, function () { setTimeout(pollLog, LOG_POLL_MS); });
  }
  pollLog();

  setInterval(tick, 1000);
  setInterval(function () {
    if (!document.hidden && !dialog.open && !backfillDialog.open) { refresh(); }
  }, REFRESH_MS);
})();
