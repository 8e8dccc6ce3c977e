// queuectl dashboard: the little the pages need beyond htmx. No inline script anywhere (the
// Content-Security-Policy allows none); everything hangs off data- attributes.
"use strict";

(function () {
  // -- The live log: like `tail -f` ---------------------------------------------------------
  // The page opens with the end of the log and the byte offset it ends at; each poll asks
  // for the bytes after that offset only. The view follows new output while the reader is at
  // the bottom, and stays where it is when they scrolled up.
  const POLL_MS = 1000;
  const AT_BOTTOM_PX = 8;

  function atBottom(el) {
    return el.scrollHeight - el.scrollTop - el.clientHeight <= AT_BOTTOM_PX;
  }

  function followLog(log) {
    const status = document.getElementById("log-status");
    const runLabel = document.getElementById("log-run");
    let run = Number(log.dataset.run);
    let offset = Number(log.dataset.offset);
    let following = true;
    let switching = false;  // waiting for the next run to start before showing it
    log.scrollTop = log.scrollHeight;  // open at the end

    function say(text) { if (status) status.textContent = text; }

    log.addEventListener("scroll", function () {
      following = atBottom(log);
      if (log.dataset.follow) {
        say(following ? "following" : "paused: scroll to the bottom to follow");
      }
    });

    async function poll() {
      if (!log.dataset.follow) return;
      if (document.body.dataset.live === "off") { setTimeout(poll, POLL_MS); return; }
      let answer;
      try {
        const response = await fetch(log.dataset.src + run + "/log?offset=" + offset,
                                     {credentials: "same-origin", cache: "no-store"});
        if (!response.ok) { say("stopped: " + response.status); return; }
        answer = await response.json();
      } catch (error) {
        setTimeout(poll, POLL_MS * 3);  // the dashboard restarting: try again
        return;
      }
      if (!answer.started) {  // the next run has not started: keep showing the last one
        if (answer.finished) {  // and never will: the job is over
          delete log.dataset.follow;
          say("finished");
          return;
        }
        setTimeout(poll, POLL_MS);
        return;
      }
      if (switching) {  // it started: its output replaces the previous run's
        switching = false;
        log.textContent = "";
        if (runLabel) runLabel.textContent = String(run);
        say(following ? "following" : "paused: scroll to the bottom to follow");
      }
      const stick = following && atBottom(log);
      if (answer.skipped > 0) {
        log.append("\n[… " + answer.skipped.toLocaleString() + " bytes skipped …]\n");
      }
      if (answer.text) log.append(answer.text);
      offset = answer.offset;
      if (stick) log.scrollTop = log.scrollHeight;
      if (answer.finished) {
        // That run failed and the job runs again (or already did: the next run may have
        // started and ended since the last poll): follow the next one.
        if (answer.job_live || answer.runs > run) {
          say("run " + run + " ended; waiting for run " + (run + 1));
          run += 1;
          offset = 0;
          switching = true;
        } else {
          delete log.dataset.follow;
          say("finished");
          return;
        }
      }
      setTimeout(poll, POLL_MS);
    }
    if (log.dataset.follow) setTimeout(poll, POLL_MS);
  }

  // -- Live refresh can be paused: htmx's polls are skipped while it is off ---------------
  function setupLiveToggle() {
    const toggle = document.getElementById("live-toggle");
    if (!toggle) return;
    function show() {
      const off = document.body.dataset.live === "off";
      toggle.textContent = off ? "Live refresh: paused" : "Live refresh: on";
      toggle.setAttribute("aria-pressed", off ? "true" : "false");
    }
    if (sessionStorage.getItem("queuectl-live") === "off") document.body.dataset.live = "off";
    toggle.addEventListener("click", function () {
      const off = document.body.dataset.live !== "off";
      document.body.dataset.live = off ? "off" : "on";
      sessionStorage.setItem("queuectl-live", off ? "off" : "on");
      show();
    });
    document.body.addEventListener("htmx:beforeRequest", function (event) {
      const source = event.detail && event.detail.elt;
      if (!source || source.id !== "live") return;
      // Paused; or jobs are ticked (the Dead letters page), which the refresh would untick.
      if (document.body.dataset.live === "off" ||
          source.querySelector('input[type="checkbox"]:checked')) {
        event.preventDefault();
      }
    });
    show();
  }

  // -- Times: relative on the page, absolute on hover, in UTC or local time ----------------
  function localText(iso) {
    const date = new Date(iso);
    if (isNaN(date.getTime())) return null;
    const pad = (n) => String(n).padStart(2, "0");
    const offset = -date.getTimezoneOffset();
    const sign = offset >= 0 ? "+" : "-";
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) +
      " " + pad(date.getHours()) + ":" + pad(date.getMinutes()) + ":" + pad(date.getSeconds()) +
      " " + sign + pad(Math.floor(Math.abs(offset) / 60)) + ":" + pad(Math.abs(offset) % 60);
  }

  function applyZone(root) {
    const local = localStorage.getItem("queuectl-zone") === "local";
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      if (!el.dataset.utc) el.dataset.utc = el.title;
      el.title = local ? (localText(el.getAttribute("datetime")) || el.dataset.utc)
                       : el.dataset.utc;
    });
    const toggle = document.getElementById("zone-toggle");
    if (toggle) toggle.textContent = local ? "times in local time" : "times in UTC";
  }

  function setupZoneToggle() {
    const toggle = document.getElementById("zone-toggle");
    if (toggle) {
      toggle.addEventListener("click", function () {
        const local = localStorage.getItem("queuectl-zone") === "local";
        localStorage.setItem("queuectl-zone", local ? "utc" : "local");
        applyZone(document);
      });
    }
    applyZone(document);
    document.body.addEventListener("htmx:afterSwap", function () { applyZone(document); });
  }

  // -- Select all: the checkboxes of a table, and the "all N matching" choice --------------
  // Listened for on the document: a live refresh brings new checkboxes.
  function setupSelectAll() {
    document.addEventListener("change", function (event) {
      const box = event.target;
      if (!(box instanceof HTMLInputElement) || !box.matches("input[data-select-all]")) return;
      box.closest("form").querySelectorAll('input[name="ids"]').forEach(function (item) {
        item.checked = box.checked;
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    const log = document.getElementById("log");
    if (log) followLog(log);
    setupLiveToggle();
    setupZoneToggle();
    setupSelectAll();
  });
})();
