"use strict";
(() => {
  async function load() {
    const data = await DSE.api("/api/exports/");
    document.querySelector("#exports tbody").replaceChildren(...data.exports.map((f) => DSE.el("tr", {},
      DSE.el("td", {}, DSE.el("a", { href: f.download_url, download: f.name }, f.name)),
      DSE.el("td", { class: "num", text: `${DSE.num(f.size_bytes / 1024, 3)} KB` }),
      DSE.el("td", { text: DSE.date(f.modified) }))));
    document.getElementById("none").hidden = data.count > 0;
  }

  document.getElementById("cleanup").addEventListener("submit", async (event) => {
    event.preventDefault();
    const raw = event.target.elements.max_age_days.value;
    const days = Number(raw);
    if (raw === "" || !Number.isFinite(days) || days < 0) { DSE.flash("Give a number of days ≥ 0.", true); return; }
    if (!confirm(`Delete export zips older than ${days} days?`)) return;
    try {
      const data = await DSE.api("/api/exports/cleanup/", { method: "POST", body: { max_age_days: days } });
      DSE.flash(data.message);
      await load();
    } catch (error) { DSE.flash(error.message, true); }
  });
  load().catch((e) => DSE.flash(e.message, true));
})();
