"use strict";
(() => {
  const RUN_ID = document.getElementById("run-page").dataset.runId;
  const TYPES = [["gpu", "GPU"], ["attention", "Attention"], ["sparse", "Sparse"], ["convolution", "Convolution"]];
  const AUTO_ANALYTICS = document.getElementById("run-page").dataset.autoAnalytics === "1";
  const FINISHED = ["completed", "failed", "cancelled"];
  let timer = null;
  let lastDesigns = -1;
  let settlePolls = 60; // at 3 s each: how long a finished run's page waits for its analytics

  function summary(run) {
    document.getElementById("run-name").textContent = run.name;
    document.getElementById("run-status").replaceChildren(DSE.badge(run.status));
    const rows = [
      ["Run id", run.run_id], ["Algorithm", run.algorithm], ["Experiment", run.experiment],
      ["Workloads", run.trace_name], ["Model", run.model], ["Objectives", run.objectives.join(", ")],
      ["Population", run.population_size], ["Seed", run.seed ?? "–"],
      ["Progress", DSE.progress(run)], ["Designs", run.total_designs_evaluated],
      ["Pareto front", run.pareto_front_size], ["Created", DSE.date(run.created_at)],
      ["Completed", DSE.date(run.completed_at)], ["Run time", `${DSE.num(run.execution_time_s, 3)} s`],
    ];
    document.getElementById("summary").replaceChildren(...rows.flatMap(([k, v]) =>
      [DSE.el("dt", { text: k }), DSE.el("dd", {}, v ?? "–")]));
    const error = document.getElementById("error");
    error.hidden = !run.error_message;
    error.textContent = run.error_message || "";
    document.getElementById("controls").replaceChildren(DSE.controls(run, (action) => {
      if (action === "delete") location.href = "/"; else refresh();
    }));
    if (!document.querySelector("#export [name=base_name]").value) {
      document.querySelector("#export [name=base_name]").placeholder = run.name.replace(/[^A-Za-z0-9._-]/g, "_");
    }
  }

  async function scatter() {
    const data = await DSE.api(`/api/runs/${RUN_ID}/plot/`);
    const p = data.points;
    document.getElementById("plot-note").textContent = data.sampled
      ? `(${p.id.length} of ${data.total_designs} shown: the front and an even sample)` : `(${p.id.length})`;
    const text = p.id.map((_, i) => `G/A/S/C ${p.gpu_count[i]}/${p.attention_count[i]}/${p.sparse_count[i]}/${p.convolution_count[i]}<br>rank ${p.pareto_rank[i]}`);
    const front = data.front;
    const traces = [
      { type: "scattergl", mode: "markers", name: "designs", x: p.execution_time_ms, y: p.energy_mj,
        text, customdata: p.id, hovertemplate: "%{text}<br>%{x:.4g} ms, %{y:.4g} mJ<extra></extra>",
        marker: { color: p.pareto_rank, colorscale: "Viridis", reversescale: true, size: 8,
          colorbar: { title: { text: "rank" } } } },
      { type: "scatter", mode: "lines+markers", name: "Pareto front",
        x: front.map((d) => d.execution_time_ms), y: front.map((d) => d.energy_mj),
        customdata: front.map((d) => d.id),
        text: front.map((d) => `G/A/S/C ${DSE.composition(d)}`),
        hovertemplate: "%{text}<br>%{x:.4g} ms, %{y:.4g} mJ<extra>front</extra>",
        line: { color: "#dc2626" }, marker: { size: 11, color: "rgba(0,0,0,0)", line: { color: "#dc2626", width: 2 } } },
    ];
    const layout = { margin: { t: 10, r: 10, b: 50, l: 70 }, showlegend: false,
      xaxis: { title: { text: "execution time (ms)" } }, yaxis: { title: { text: "energy (mJ)" } } };
    const node = document.getElementById("scatter");
    await Plotly.react(node, traces, layout, { responsive: true, displaylogo: false });
    node.dataset.points = String(p.id.length);
    if (!node.dataset.bound) {
      node.on("plotly_click", (event) => { const id = event.points[0]?.customdata; if (id) breakdown(id); });
      node.dataset.bound = "1";
    }
    document.querySelector("#front tbody").replaceChildren(...front.map((d) => DSE.el("tr", {},
      DSE.el("td", { class: "num", text: d.gpu_count }), DSE.el("td", { class: "num", text: d.attention_count }),
      DSE.el("td", { class: "num", text: d.sparse_count }), DSE.el("td", { class: "num", text: d.convolution_count }),
      DSE.el("td", { class: "num" }, DSE.el("a", { href: "#", onclick: (e) => { e.preventDefault(); breakdown(d.id); } }, DSE.num(d.execution_time_ms, 5))),
      DSE.el("td", { class: "num", text: DSE.num(d.energy_mj, 5) }))));
  }

  async function breakdown(designId) {
    const card = document.getElementById("breakdown-card");
    card.hidden = false;
    document.getElementById("breakdown-title").textContent = "…";
    try {
      const data = await DSE.api(`/api/runs/${RUN_ID}/designs/${designId}/breakdown/`);
      const c = data.composition;
      document.getElementById("breakdown-title").textContent =
        `G/A/S/C ${c.gpu}/${c.attention}/${c.sparse}/${c.convolution}`;
      document.getElementById("breakdown-summary").textContent =
        `${DSE.num(data.execution_time_ms, 6)} ms, ${DSE.num(data.energy_mj, 6)} mJ, ` +
        `${DSE.num(data.area_mm2)} mm², peak ${DSE.num(data.peak_power_w)} W — re-computed by the model.`;
      const head = ["workload", "#", "kernel", "time (µs)", "energy (µJ)", "traffic (MB)", ...TYPES.map((t) => t[1])];
      document.querySelector("#breakdown thead").replaceChildren(DSE.el("tr", {}, head.map((h, i) => DSE.el("th", { class: i > 2 ? "num" : "", text: h }))));
      document.querySelector("#breakdown tbody").replaceChildren(...data.kernels.map((k) => DSE.el("tr", {},
        DSE.el("td", { text: k.workload }), DSE.el("td", { class: "num", text: k.index }), DSE.el("td", { text: k.kernel }),
        DSE.el("td", { class: "num", text: DSE.num(k.time_us, 5) }), DSE.el("td", { class: "num", text: DSE.num(k.energy_uj, 5) }),
        DSE.el("td", { class: "num", text: DSE.num(k.traffic_bytes / 2 ** 20, 4) }),
        TYPES.map(([key]) => DSE.el("td", { class: "num", text: k[`${key}_share`] ? DSE.pct(k[`${key}_share`]) : "–" })))));
      card.scrollIntoView({ behavior: "smooth", block: "nearest" });
    } catch (error) { DSE.flash(error.message, true); card.hidden = true; }
  }

  async function convergence() {
    const data = await DSE.api(`/api/runs/${RUN_ID}/convergence/`);
    const g = data.generations;
    const traces = [
      { x: g.map((r) => r.generation), y: g.map((r) => r.hypervolume), name: "hypervolume", mode: "lines+markers" },
      { x: g.map((r) => r.generation), y: g.map((r) => r.front_size), name: "front size", yaxis: "y2", mode: "lines+markers" },
    ];
    if (g.some((r) => r.true_front_share !== undefined && r.true_front_share !== null)) {
      traces.push({ x: g.map((r) => r.generation), y: g.map((r) => 100 * r.true_front_share), name: "true front found (%)", yaxis: "y2", mode: "lines+markers" });
    }
    await Plotly.react("convergence", traces, { margin: { t: 10, r: 50, b: 40, l: 60 },
      xaxis: { title: { text: "generation" }, dtick: 1 }, yaxis: { title: { text: "hypervolume" } },
      yaxis2: { overlaying: "y", side: "right", title: { text: "front size / %" } },
      legend: { orientation: "h", y: -0.25 } }, { responsive: true, displaylogo: false });
    const truth = data.ground_truth;
    document.getElementById("truth").textContent = truth
      ? `Exact front of the design space: ${truth.state}` + (truth.front_size ? ` (${truth.front_size} designs of ${truth.space_size}).` : ".")
      : "";
    return truth;
  }

  function kv(node, rows) {
    node.replaceChildren(...rows.flatMap(([k, v]) => [DSE.el("dt", { text: k }), DSE.el("dd", { text: v })]));
  }

  async function analytics() {
    const data = await DSE.api(`/api/runs/${RUN_ID}/analytics/`);
    const by = Object.fromEntries(data.analytics.map((a) => [a.analytics_type, a.results]));
    document.getElementById("compute").hidden = data.analytics.length >= 4;
    const pa = by.pareto_analysis;
    if (pa) {
      const d = (x) => (x ? `${x.gpu}/${x.attention}/${x.sparse}/${x.convolution} (${DSE.num(x.execution_time_ms)} ms, ${DSE.num(x.energy_mj)} mJ)` : "–");
      kv(document.getElementById("pareto-analysis"), [["Front size", pa.front_size], ["Hypervolume", DSE.num(pa.hypervolume)],
        ["Knee point", d(pa.knee)], ["Best energy-delay", d(pa.best_edp)],
        ["Front composition", TYPES.map(([k, label]) => `${label} ${DSE.num(pa.front_composition[k]?.mean, 2)}`).join(", ")]]);
    }
    const rm = by.rule_mining;
    if (rm) {
      document.getElementById("rules-region").textContent = `${rm.region}: ${rm.region_size} of ${rm.n} designs`;
      const rules = (rm.pareto_rules && rm.pareto_rules.length ? rm.pareto_rules : rm.rules).slice(0, 12);
      document.querySelector("#rules tbody").replaceChildren(...rules.map((r) => DSE.el("tr", {},
        DSE.el("td", { text: r.text, style: "white-space:normal" }), DSE.el("td", { class: "num", text: DSE.pct(r.support) }),
        DSE.el("td", { class: "num", text: DSE.pct(r.confidence_feature_to_region) }),
        DSE.el("td", { class: "num", text: DSE.pct(r.confidence_region_to_feature) }),
        DSE.el("td", { class: "num", text: DSE.num(r.lift, 3) }))));
    }
    const dc = by.distance_correlation;
    if (dc) {
      const objectives = Object.keys(Object.values(dc.results)[0] || {});
      document.querySelector("#correlations thead").replaceChildren(DSE.el("tr", {}, DSE.el("th"), objectives.map((o) => DSE.el("th", { class: "num", text: o }))));
      document.querySelector("#correlations tbody").replaceChildren(...Object.entries(dc.results).map(([v, per]) => DSE.el("tr", {},
        DSE.el("td", { text: v }), objectives.map((o) => DSE.el("td", { class: "num", text: `${DSE.num(per[o].dcor, 3)} (p ${DSE.num(per[o].p_value, 2)})` })))));
    }
    const se = by.sensitivity;
    if (se) {
      const objectives = se.objectives || [];
      document.querySelector("#sensitivity thead").replaceChildren(DSE.el("tr", {}, DSE.el("th", { text: "change" }), objectives.map((o) => DSE.el("th", { class: "num", text: o }))));
      const rows = [];
      for (const [type, label] of TYPES) {
        for (const dir of ["add", "remove"]) {
          const s = se.summary[type]?.[dir];
          if (!s || !s.neighbours) continue;
          rows.push(DSE.el("tr", {}, DSE.el("td", { text: `${dir} one ${label}` }),
            objectives.map((o) => { const v = s.mean_relative_change_pct[o]; return DSE.el("td", { class: "num", text: v === null ? "–" : `${v > 0 ? "+" : ""}${v.toFixed(1)}%` }); })));
        }
      }
      document.querySelector("#sensitivity tbody").replaceChildren(...rows);
    }
    return data.analytics.length;
  }

  async function computeAnalytics() {
    const button = document.getElementById("compute");
    button.disabled = true;
    try {
      for (const type of ["pareto_analysis", "rule_mining", "distance_correlation", "sensitivity", "ground_truth"]) {
        await DSE.api(`/api/runs/${RUN_ID}/analytics/${type}/`, { method: "POST", body: {} });
      }
      await analytics();
      await convergence();
    } catch (error) { DSE.flash(error.message, true); }
    button.disabled = false;
  }

  // The worker stores a completed run's analytics and exact front after it marks the run
  // completed, so the page keeps polling until they are in rather than showing empty tables.
  async function settled(run) {
    const count = await analytics();
    const truth = await convergence();
    if (run.status !== "completed") return true;
    return (!AUTO_ANALYTICS || count >= 4) && !(truth && ["pending", "running"].includes(truth.state));
  }

  async function refresh() {
    clearTimeout(timer);
    let run;
    try { run = (await DSE.api(`/api/runs/${RUN_ID}/`)).run; }
    catch (error) { DSE.flash(error.message, true); return; }
    summary(run);
    if (run.total_designs_evaluated !== lastDesigns) {
      lastDesigns = run.total_designs_evaluated;
      if (lastDesigns > 0) {
        await scatter().catch((e) => DSE.flash(e.message, true));
        if (!FINISHED.includes(run.status)) await convergence().catch((e) => DSE.flash(e.message, true));
      }
    }
    if (!FINISHED.includes(run.status)) { timer = setTimeout(refresh, 2000); return; }
    let done = true;
    try { done = await settled(run); } catch (error) { DSE.flash(error.message, true); }
    if (!done && settlePolls-- > 0) timer = setTimeout(refresh, 3000);
  }

  document.getElementById("export").addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = event.target.elements;
    const body = { compression: f.compression.value };
    if (f.base_name.value.trim()) body.base_name = f.base_name.value.trim();
    if (f.level.value !== "") body.level = Number(f.level.value);
    try {
      const data = await DSE.api(`/api/runs/${RUN_ID}/export/`, { method: "POST", body });
      document.getElementById("download").replaceChildren("Ready: ",
        DSE.el("a", { href: data.download_url, id: "download-link", download: data.file_name }, data.file_name),
        ` (${DSE.num(data.size_bytes / 1024, 3)} KB)`);
      DSE.flash(data.message);
    } catch (error) { DSE.flash(error.message, true); }
  });
  document.getElementById("compute").addEventListener("click", computeAnalytics);
  refresh();
})();
