"use strict";
(() => {
  const form = document.getElementById("new-run");
  const TYPES = ["GPU", "Attention", "Sparse", "Convolution"];
  const spaceGrid = document.getElementById("space");
  for (const [i, type] of TYPES.entries()) {
    spaceGrid.append(DSE.el("span", { text: type }),
      DSE.el("input", { type: "number", min: 0, value: 0, name: `lower${i}`, "aria-label": `${type} min` }),
      DSE.el("input", { type: "number", min: 0, value: 12, name: `upper${i}`, "aria-label": `${type} max` }));
  }

  async function init() {
    const options = DSE.options || await DSE.api("/api/options/");
    const select = form.elements.experiment;
    for (const exp of options.experiments) {
      select.append(DSE.el("option", { value: exp.name, text: exp.name }));
    }
    select.value = "resnet50-test";
    showWorkloads();
  }

  function showWorkloads() {
    const exp = (DSE.options?.experiments || []).find((e) => e.name === form.elements.experiment.value);
    document.getElementById("workloads").textContent = exp
      ? "Workloads: " + exp.workloads.map((w) => `${w.model}/${w.instance} at ${w.batch_size}` +
        (w.weighted_score !== 1 ? ` ×${w.weighted_score}` : "")).join(" + ") : "";
  }

  // How many compositions the bounds and total allow (what a full factorial run evaluates).
  function spaceSize() {
    const lower = [0, 1, 2, 3].map((i) => Number(form.elements[`lower${i}`].value));
    const upper = [0, 1, 2, 3].map((i) => Number(form.elements[`upper${i}`].value));
    const lo = Number(form.elements.total_min.value);
    const hi = Number(form.elements.total_max.value);
    const out = document.getElementById("space-size");
    if ([...lower, ...upper, lo, hi].some((v) => !Number.isInteger(v) || v < 0) || hi > 4096) { out.textContent = ""; return; }
    let ways = new Map([[0, 1]]);
    for (let t = 0; t < 4; t++) {
      const next = new Map();
      for (const [sum, n] of ways) {
        for (let c = lower[t]; c <= upper[t] && sum + c <= hi; c++) next.set(sum + c, (next.get(sum + c) || 0) + n);
      }
      ways = next;
    }
    let size = 0;
    for (const [sum, n] of ways) if (sum >= lo && sum <= hi) size += n;
    out.textContent = size ? `${size.toLocaleString()} compositions` : "no composition fits these bounds";
  }

  function onAlgorithm() {
    const ff = form.elements.algorithm.value === "FF";
    document.getElementById("scalar-field").hidden = form.elements.algorithm.value !== "GA";
    document.getElementById("pop-label").textContent = ff ? "Batch size" : "Population";
    form.elements.generations.disabled = ff;
  }

  function setError(field, message) {
    const box = form.querySelector(`[data-field="${field}"]`) || form.querySelector('[data-field="name"]');
    box.classList.add("invalid");
    const slot = box.querySelector(".error");
    slot.textContent = slot.textContent ? `${slot.textContent}; ${message}` : message;
  }

  function clearErrors() {
    for (const box of form.querySelectorAll(".field")) {
      box.classList.remove("invalid");
      const slot = box.querySelector(".error");
      if (slot) slot.textContent = "";
    }
  }

  function integer(name, { min, max, optional = false } = {}) {
    const raw = form.elements[name].value.trim();
    if (!raw) { if (optional) return null; setError(name, "required"); return undefined; }
    const value = Number(raw);
    if (!Number.isInteger(value)) { setError(name, "must be a whole number"); return undefined; }
    if (min !== undefined && value < min) { setError(name, `at least ${min}`); return undefined; }
    if (max !== undefined && value > max) { setError(name, `at most ${max}`); return undefined; }
    return value;
  }

  async function collect() {
    clearErrors();
    const body = { name: form.elements.name.value.trim(), experiment: form.elements.experiment.value,
      algorithm: form.elements.algorithm.value, auto_export: form.elements.auto_export.checked };
    if (!body.name) setError("name", "give the run a name");
    if (form.elements.description.value.trim()) body.description = form.elements.description.value.trim();
    if (form.elements.goal.value) body.goal = form.elements.goal.value;
    body.population_size = integer("population_size", { min: 2, max: 10000 });
    body.generations = body.algorithm === "FF" ? 1 : integer("generations", { min: 1, max: 10000 });
    const seed = integer("seed", { min: 0, optional: true });
    if (seed !== null && seed !== undefined) body.seed = seed;
    if (body.algorithm === "GA") body.scalar = form.elements.scalar.value;
    if (form.elements.area.checked) body.objectives = ["execution_time_ms", "energy_mj", "area_mm2"];
    const lower = [0, 1, 2, 3].map((i) => Number(form.elements[`lower${i}`].value));
    const upper = [0, 1, 2, 3].map((i) => Number(form.elements[`upper${i}`].value));
    const totalMin = Number(form.elements.total_min.value);
    const totalMax = Number(form.elements.total_max.value);
    if ([...lower, ...upper, totalMin, totalMax].some((v) => !Number.isInteger(v) || v < 0)) {
      setError("space", "counts must be whole numbers ≥ 0");
    } else if (lower.some((v, i) => v > upper[i])) {
      setError("space", "a minimum is above its maximum");
    } else if (totalMin > totalMax || totalMax < 1) {
      setError("space", "total chiplets: the minimum is above the maximum");
    } else {
      body.space = { lower, upper, total_min: totalMin, total_max: totalMax };
    }
    if (form.querySelector('input[name="library_kind"]:checked').value === "file") {
      const file = form.elements.library_file.files[0];
      if (!file) setError("library", "choose a JSON or TOML file");
      else body.library_text = await file.text();
    }
    return form.querySelector(".invalid") ? null : body;
  }

  // The API answers "field: message; other: message" for invalid requests.
  function showServerErrors(message) {
    const known = ["name", "experiment", "algorithm", "population_size", "generations", "seed",
      "goal", "objectives", "scalar", "space", "description"];
    let placed = false;
    for (const part of message.split("; ")) {
      const match = part.match(/^(?:field '([\w.]+)'|([\w.]+)): (.*)$/);
      let field = match ? (match[1] || match[2]) : null;
      if (field && (field.startsWith("chiplets") || field.startsWith("system") || field.startsWith("library"))) field = "library";
      if (field && (field.startsWith("space") || ["lower", "upper", "total_min", "total_max"].includes(field))) field = "space";
      if (field && (known.includes(field) || field === "library")) { setError(field, match[3] || part); placed = true; }
    }
    if (/library|chiplets\.|system\./.test(message) && !placed) { setError("library", message); placed = true; }
    DSE.flash(message, true);
    return placed;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = await collect();
    if (!body) { DSE.flash("Please correct the highlighted fields.", true); return; }
    const button = document.getElementById("submit");
    button.disabled = true;
    try {
      const data = await DSE.api("/api/runs/", { method: "POST", body });
      location.href = `/runs/${data.run.run_id}/`;
    } catch (error) {
      showServerErrors(error.message);
      button.disabled = false;
    }
  });
  form.elements.algorithm.addEventListener("change", onAlgorithm);
  form.addEventListener("input", (event) => { if (/^(lower|upper|total)/.test(event.target.name)) spaceSize(); });
  spaceSize();
  form.elements.experiment.addEventListener("change", showWorkloads);
  init().catch((error) => DSE.flash(error.message, true));
})();
