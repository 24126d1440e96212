// Live progress of the full rematch on the officer console.
//
// The server renders every bar with the figures of page load, so the page works without
// JavaScript; this script only refreshes them every 2 seconds from the JSON endpoint named
// in data-progress-url, and reloads the page once the run has finished (new live run,
// new pair counts). The label comes translated from the server: no text lives here.
// Loaded with <script src defer> (no inline script, ready for a strict Content-Security-Policy).
"use strict";

(() => {
  const INTERVAL_MS = 2000;

  const watch = (element) => {
    const url = element.dataset.progressUrl;
    const bar = element.querySelector("progress");
    const label = element.querySelector(".run-progress-label");
    let timer = null;
    let busy = false;

    const stop = () => window.clearInterval(timer);

    const show = (progress) => {
      bar.max = Math.max(progress.blocks_total, 1);
      bar.value = progress.blocks_done;
      bar.textContent = `${progress.blocks_done} / ${progress.blocks_total}`;
      label.textContent = progress.label;
    };

    const refresh = async () => {
      if (busy || document.hidden) {
        return; // a slow answer is still on its way, or nobody is looking
      }
      busy = true;
      try {
        const response = await fetch(url, {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
          cache: "no-store",
          redirect: "manual",
        });
        if (response.type === "opaqueredirect") {
          stop(); // sent to the login page: the session has ended
          return;
        }
        if (!response.ok) {
          if (response.status >= 400 && response.status < 500) {
            stop(); // forbidden or gone: asking again will not help
          }
          return;
        }
        const progress = await response.json();
        show(progress);
        if (!progress.in_progress) {
          stop();
          window.location.reload();
        }
      } catch {
        // Network trouble: keep the last figures and try again at the next tick.
      } finally {
        busy = false;
      }
    };

    timer = window.setInterval(refresh, INTERVAL_MS);
  };

  document.querySelectorAll(".run-progress[data-progress-url]").forEach(watch);
})();
