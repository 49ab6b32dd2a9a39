// The campaign page keeps itself current: the changing parts every few seconds, an export's
// progress until its file is ready. Same origin only (the page's Content-Security-Policy).
(() => {
  "use strict";
  const EVERY = 5000;
  const updating = document.getElementById("updating");
  const live = document.getElementById("live");
  const liveText = updating.textContent;

  async function refresh() {
    try {
      const response = await fetch(updating.dataset.live, { cache: "no-store" });
      if (!response.ok) throw new Error(String(response.status));
      live.innerHTML = await response.text();
      updating.textContent = liveText;
      updating.classList.remove("paused");
    } catch {
      updating.textContent = updating.dataset.paused;
      updating.classList.add("paused");
    }
  }

  const exportStatus = document.getElementById("export-status");
  async function watchExport() {
    try {
      const response = await fetch(exportStatus.dataset.statusUrl, { cache: "no-store" });
      const job = await response.json();
      exportStatus.dataset.status = job.status;
      exportStatus.querySelector(".state").textContent = job.status;
      exportStatus.querySelector(".rows").textContent = String(job.rows ?? 0);
      if (job.file) {
        const link = exportStatus.querySelector(".download");
        link.href = job.file;
        link.hidden = false;
      }
      if (job.status === "done" || job.status === "failed") return;
    } catch {
      // Try again on the next tick.
    }
    setTimeout(watchExport, 1000);
  }

  setInterval(refresh, EVERY);
  if (exportStatus && exportStatus.dataset.status !== "done") watchExport();
})();
