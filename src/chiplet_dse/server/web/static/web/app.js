// Shared helpers of the pages: every read and change goes through the REST API.
"use strict";

const DSE = {
  token() { return localStorage.getItem("chiplet-dse-token") || ""; },

  async api(path, { method = "GET", body = null, form = null } = {}) {
    const headers = { Accept: "application/json" };
    const token = DSE.token();
    if (token && method !== "GET") headers.Authorization = `Bearer ${token}`;
    let payload = null;
    if (form) payload = form;
    else if (body !== null) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
    const response = await fetch(path, { method, headers, body: payload });
    let data = null;
    try { data = await response.json(); } catch (e) { data = { status: "error", message: response.statusText }; }
    if (!response.ok || data.status === "error") {
      const error = new Error(data.message || `HTTP ${response.status}`);
      error.status = response.status;
      throw error;
    }
    return data;
  },

  flash(message, isError = false) {
    const box = document.getElementById("flash");
    box.textContent = message;
    box.className = isError ? "flash error" : "flash";
    box.hidden = false;
    clearTimeout(DSE._flashTimer);
    DSE._flashTimer = setTimeout(() => { box.hidden = true; }, isError ? 12000 : 5000);
  },

  el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (value !== false && value !== null && value !== undefined) node.setAttribute(key, value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  },

  num(value, digits = 4) {
    if (value === null || value === undefined) return "–";
    const n = Number(value);
    if (!Number.isFinite(n)) return String(value);
    if (n !== 0 && (Math.abs(n) >= 1e6 || Math.abs(n) < 1e-3)) return n.toExponential(digits - 1);
    return n.toPrecision(digits).replace(/\.?0+$/, (m) => (m.includes(".") ? "" : m));
  },

  pct(value) { return value === null || value === undefined ? "–" : `${(100 * value).toFixed(1)}%`; },

  date(iso) { return iso ? new Date(iso).toLocaleString() : "–"; },

  badge(status) { return DSE.el("span", { class: `badge ${status}`, text: status }); },

  progress(run) {
    const total = run.total_generations || run.generations || 1;
    const done = run.status === "completed" ? total : run.current_generation;
    const bar = DSE.el("span", { class: "progress", title: `generation ${done} of ${total}` },
      DSE.el("span", { style: `width:${Math.round((100 * done) / total)}%` }));
    return DSE.el("span", {}, bar, ` ${done}/${total}`);
  },

  composition(d) {
    return `${d.gpu_count}/${d.attention_count}/${d.sparse_count}/${d.convolution_count}`;
  },

  // Pause, resume, stop, delete buttons for a run; onDone is called after a change.
  controls(run, onDone) {
    const act = async (action, confirmText) => {
      if (confirmText && !confirm(confirmText)) return;
      try {
        const data = action === "delete"
          ? await DSE.api(`/api/runs/${run.run_id}/delete/`, { method: "DELETE" })
          : await DSE.api(`/api/runs/${run.run_id}/${action}/`, { method: "POST" });
        DSE.flash(data.message);
        onDone(action);
      } catch (error) { DSE.flash(error.message, true); }
    };
    const buttons = [];
    if (["queued", "running"].includes(run.status)) buttons.push(["pause", "Pause"]);
    if (run.status === "paused") buttons.push(["resume", "Resume"]);
    if (["queued", "running", "paused"].includes(run.status)) buttons.push(["stop", "Stop"]);
    if (run.status !== "running") buttons.push(["delete", "Delete"]);
    return DSE.el("span", { class: "actions" }, buttons.map(([action, label]) =>
      DSE.el("button", {
        class: `small${action === "delete" ? " danger" : ""}`, type: "button",
        "data-action": action, onclick: () => act(action,
          action === "delete" ? `Delete run ${run.run_id} and all its designs?` : null),
      }, label)));
  },
};

document.addEventListener("DOMContentLoaded", async () => {
  const input = document.getElementById("api-token");
  input.value = DSE.token();
  input.addEventListener("change", () => localStorage.setItem("chiplet-dse-token", input.value.trim()));
  try {
    const options = await DSE.api("/api/options/");
    DSE.options = options;
    document.getElementById("token-box").hidden = !options.token_required;
  } catch (e) { /* the page still works read-only */ }
});
