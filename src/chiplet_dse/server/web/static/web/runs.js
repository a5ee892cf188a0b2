"use strict";
(() => {
  const form = document.getElementById("filters");
  const body = document.querySelector("#runs tbody");
  let page = 1;
  let timer = null;

  function params() {
    const p = new URLSearchParams({ page, page_size: 25 });
    for (const [key, value] of new FormData(form)) {
      if (!value) continue;
      if (key === "created_after") p.set(key, `${value}T00:00:00Z`);
      else if (key === "created_before") p.set(key, `${value}T23:59:59Z`);
      else p.set(key, value);
    }
    return p;
  }

  async function load() {
    clearTimeout(timer);
    let data;
    try { data = await DSE.api(`/api/runs/search/?${params()}`); }
    catch (error) { DSE.flash(error.message, true); return; }
    body.replaceChildren(...data.runs.map((run) => DSE.el("tr", { "data-run": run.run_id },
      DSE.el("td", {}, DSE.el("a", { href: `/runs/${run.run_id}/` }, run.name),
        DSE.el("div", { class: "muted small", text: run.run_id })),
      DSE.el("td", {}, DSE.badge(run.status)),
      DSE.el("td", {}, DSE.progress(run)),
      DSE.el("td", { text: run.algorithm }),
      DSE.el("td", { class: "hide-narrow wrap", text: run.trace_name || run.experiment }),
      DSE.el("td", { class: "num", text: run.total_designs_evaluated }),
      DSE.el("td", { class: "num", text: run.pareto_front_size }),
      DSE.el("td", { class: "hide-narrow", text: DSE.date(run.created_at) }),
      DSE.el("td", {}, DSE.controls(run, load)))));
    document.getElementById("empty").hidden = data.count > 0;
    document.getElementById("page-info").textContent = `page ${data.page} of ${data.num_pages} · ${data.count} runs`;
    document.getElementById("prev").disabled = data.page <= 1;
    document.getElementById("next").disabled = data.page >= data.num_pages;
    // Live progress while anything is queued or running.
    if (data.runs.some((r) => ["queued", "running"].includes(r.status))) timer = setTimeout(load, 2000);
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); page = 1; load(); });
  form.addEventListener("reset", () => setTimeout(() => { page = 1; load(); }));
  document.getElementById("prev").addEventListener("click", () => { page -= 1; load(); });
  document.getElementById("next").addEventListener("click", () => { page += 1; load(); });
  load();
})();
