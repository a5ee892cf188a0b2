"use strict";
(() => {
  const picked = new Set(new URLSearchParams(location.search).get("runs")?.split(",").filter(Boolean) || []);
  const button = document.getElementById("show");
  let pair = null;

  async function load() {
    const data = await DSE.api("/api/runs/?page_size=200");
    const runs = data.runs.filter((r) => r.total_designs_evaluated > 0);
    document.querySelector("#pick tbody").replaceChildren(...runs.map((run) => DSE.el("tr", {},
      DSE.el("td", {}, DSE.el("input", { type: "checkbox", value: run.run_id, checked: picked.has(run.run_id) || null,
        "aria-label": `pick ${run.run_id}`,
        onchange: (e) => { e.target.checked ? picked.add(run.run_id) : picked.delete(run.run_id); update(); } })),
      DSE.el("td", {}, DSE.el("a", { href: `/runs/${run.run_id}/` }, run.name), DSE.el("div", { class: "muted small", text: run.run_id })),
      DSE.el("td", {}, DSE.badge(run.status)), DSE.el("td", { text: run.algorithm }),
      DSE.el("td", { class: "hide-narrow", text: run.trace_name }), DSE.el("td", { class: "num", text: run.pareto_front_size }))));
    update();
    if (picked.size >= 2) compare();
  }

  function update() { button.disabled = picked.size < 2; }

  async function compare() {
    const ids = [...picked];
    history.replaceState(null, "", `?runs=${ids.join(",")}`);
    const data = await DSE.api(`/api/runs/pareto-fronts/?run_ids=${ids.join(",")}`);
    const traces = data.fronts.map((f) => ({ type: "scatter", mode: "lines+markers", name: `${f.name} (${f.run_id})`,
      x: f.front.map((d) => d.execution_time_ms), y: f.front.map((d) => d.energy_mj),
      text: f.front.map((d) => `G/A/S/C ${DSE.composition(d)}`),
      hovertemplate: "%{text}<br>%{x:.4g} ms, %{y:.4g} mJ" }));
    document.getElementById("result").hidden = false;
    await Plotly.react("fronts", traces, { margin: { t: 10, r: 10, b: 50, l: 70 },
      xaxis: { title: { text: "execution time (ms)" } }, yaxis: { title: { text: "energy (mJ)" } },
      legend: { orientation: "h", y: -0.2 } }, { responsive: true, displaylogo: false });
    document.getElementById("fronts").dataset.traces = String(traces.length);
    pair = ids.length === 2 ? ids : null;
    document.getElementById("pair").hidden = !pair;
    if (pair) await metrics(pair);
  }

  async function metrics([a, b]) {
    const c = (await DSE.api(`/api/runs/compare/?run_a=${a}&run_b=${b}`)).comparison;
    const rows = [
      ["", c.run_a.name, c.run_b.name],
      ["Designs", c.run_a.designs, c.run_b.designs],
      ["Front size", c.run_a.front_size, c.run_b.front_size],
      ["Hypervolume", DSE.num(c.run_a.hypervolume), DSE.num(c.run_b.hypervolume)],
      ["Front dominated by the other", DSE.pct(c.dominated_share.a_by_b), DSE.pct(c.dominated_share.b_by_a)],
      ["Designs only this run evaluated", c.unique_designs?.a ?? "–", c.unique_designs?.b ?? "–"],
      ["Hypervolume of the union", DSE.num(c.hypervolume_union), ""],
      ["Designs evaluated by both", c.common_designs, ""],
      ["Designs on both fronts", c.common_front_designs.length, ""],
    ];
    document.querySelector("#measures tbody").replaceChildren(...rows.map((r, i) => DSE.el("tr", {},
      r.map((v, j) => DSE.el(i === 0 || j === 0 ? "th" : "td", { class: j ? "num" : "", text: v })))));
    const types = [["gpu_count", "GPU"], ["attention_count", "Attention"], ["sparse_count", "Sparse"], ["convolution_count", "Convolution"]];
    document.querySelector("#composition tbody").replaceChildren(
      DSE.el("tr", {}, DSE.el("th"), DSE.el("th", { class: "num", text: c.run_a.name }), DSE.el("th", { class: "num", text: c.run_b.name })),
      ...types.map(([k, label]) => DSE.el("tr", {}, DSE.el("td", { text: label }),
        DSE.el("td", { class: "num", text: DSE.num(c.front_composition.a[k], 3) }),
        DSE.el("td", { class: "num", text: DSE.num(c.front_composition.b[k], 3) }))));
    document.getElementById("differences").replaceChildren(...c.differences.map((d) => DSE.el("li", { text: d })));
  }

  document.getElementById("study").addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = event.target.elements.name.value.trim();
    try {
      const data = await DSE.api("/api/studies/", { method: "POST", body: { run_a_id: pair[0], run_b_id: pair[1], name } });
      document.getElementById("study-result").textContent = data.message;
    } catch (error) { DSE.flash(error.message, true); }
  });
  document.getElementById("export-study").addEventListener("click", async () => {
    const name = document.querySelector("#study [name=name]").value.trim() || `${pair[0]}_vs_${pair[1]}`;
    try {
      const data = await DSE.api("/api/exports/comparative-study/", { method: "POST",
        body: { run_a_id: pair[0], run_b_id: pair[1], study_name: name } });
      document.getElementById("study-result").replaceChildren("Ready: ",
        DSE.el("a", { href: data.download_url, id: "study-download", download: data.file_name }, data.file_name));
    } catch (error) { DSE.flash(error.message, true); }
  });
  button.addEventListener("click", () => compare().catch((e) => DSE.flash(e.message, true)));
  load().catch((e) => DSE.flash(e.message, true));
})();
