// Steward web UI: search as you type, lineage pan and zoom, live job progress.
// Served by Steward itself; it talks only to this server.
"use strict";

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function searchAsYouType() {
  const input = document.getElementById("q");
  const list = document.getElementById("hits");
  if (!input || !list) return;
  let timer = null, seq = 0;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const mine = ++seq;
      const q = input.value.trim();
      history.replaceState(null, "", q ? "/search?q=" + encodeURIComponent(q) : "/search");
      if (!q) { list.replaceChildren(); return; }
      const r = await fetch("/api/v1/search?limit=30&q=" + encodeURIComponent(q),
                            {credentials: "same-origin"});
      if (mine !== seq || !r.ok) return;
      const hits = await r.json();
      list.replaceChildren(...hits.map(h => {
        const li = el("li");
        li.append(el("a", {href: "/products/" + encodeURIComponent(h.product)}, h.name), " ");
        li.append(el("span", {class: "muted small"},
                     (h.column ? "column" : "product") + " · " + (h.owner || "")));
        for (const c of h.classification) { li.append(" ", el("span", {class: "tag pii"}, c)); }
        li.append(el("div", {class: "small"}, h.description || ""));
        return li;
      }));
      if (!hits.length) list.append(el("li", {class: "muted"}, "no match"));
    }, 120);
  });
}

function panZoom() {
  const box = document.getElementById("graph");
  const svg = document.getElementById("lineage");
  if (!box || !svg) return;
  const full = [0, 0, +svg.dataset.width, +svg.dataset.height];
  let vb = full.slice();
  const set = () => svg.setAttribute("viewBox", vb.map(v => v.toFixed(1)).join(" "));
  const zoom = (f, cx, cy) => {
    const w = vb[2] * f, h = vb[3] * f;
    if (w < 80 || w > full[2] * 8) return;
    vb = [cx - (cx - vb[0]) * f, cy - (cy - vb[1]) * f, w, h];
    set();
  };
  const at = (ev) => {
    const r = svg.getBoundingClientRect();
    const s = Math.max(vb[2] / r.width, vb[3] / r.height);
    return [vb[0] + (ev.clientX - r.left) * s, vb[1] + (ev.clientY - r.top) * s, s];
  };
  box.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const [x, y] = at(ev);
    zoom(ev.deltaY > 0 ? 1.15 : 1 / 1.15, x, y);
  }, {passive: false});
  let drag = null, moved = 0;
  box.addEventListener("pointerdown", (ev) => {
    drag = [ev.clientX, ev.clientY, vb[0], vb[1], at(ev)[2]]; moved = 0;
  });
  window.addEventListener("pointermove", (ev) => {
    if (!drag) return;
    const dx = ev.clientX - drag[0], dy = ev.clientY - drag[1];
    moved = Math.max(moved, Math.abs(dx) + Math.abs(dy));
    if (moved > 4) { vb[0] = drag[2] - dx * drag[4]; vb[1] = drag[3] - dy * drag[4]; set(); }
  });
  window.addEventListener("pointerup", () => { drag = null; });
  // a drag is not a click on the link under it
  box.addEventListener("click", (ev) => { if (moved > 4) { ev.preventDefault(); moved = 0; } }, true);
  document.querySelectorAll("[data-zoom]").forEach(b => b.addEventListener("click", () => {
    const k = b.dataset.zoom;
    if (k === "reset") { vb = full.slice(); set(); return; }
    zoom(k === "in" ? 1 / 1.3 : 1.3, vb[0] + vb[2] / 2, vb[1] + vb[3] / 2);
  }));
  // start centred on the product the page is about
  const root = svg.querySelector(".node.root rect");
  if (root && full[2] > 1400) {
    const x = +root.getAttribute("x"), w = Math.min(full[2], 1400);
    vb = [Math.max(0, x - w / 2 + 115), 0, w, full[3] * w / full[2]];
    set();
  }
}

function jobProgress() {
  const list = document.getElementById("job-events");
  if (!list) return;
  const status = document.getElementById("job-status");
  const error = document.getElementById("job-error");
  const runLink = document.getElementById("job-run");
  const source = new EventSource("/api/v1/jobs/" + encodeURIComponent(list.dataset.job) + "/events");
  const bar = document.getElementById("job-progress");
  const count = document.getElementById("job-count");
  let total = 0, done = 0;
  const add = (text, cls) => list.append(el("li", cls ? {class: cls} : {}, text));
  const tick = () => {
    if (!total) return;
    bar.max = total; bar.value = done;
    count.textContent = done + " of " + total;
  };
  source.addEventListener("started", () => { status.textContent = "running"; status.dataset.status = "running"; });
  source.addEventListener("run_started", (m) => {
    const d = JSON.parse(m.data);
    add("run " + d.run + " into " + d.env + ": " + d.total + " products, " + d.to_build + " to build");
    total = d.total; tick();
    runLink.replaceChildren(el("a", {href: "/runs/" + encodeURIComponent(d.run)}, "the run's steps"));
  });
  source.addEventListener("step_finished", (m) => {
    const d = JSON.parse(m.data);
    add(d.product + ": " + d.status + (d.error ? " — " + d.error : ""),
        ["failed", "fail", "blocked", "error"].includes(d.status) ? "failed" : "");
    done += 1; tick();
  });
  source.addEventListener("message", (m) => { const d = JSON.parse(m.data); add(d.text, d.level); });
  source.addEventListener("finished", (m) => {
    const d = JSON.parse(m.data);
    status.textContent = d.status; status.dataset.status = d.status;
    if (d.error) error.textContent = d.error;
    if (!total) { bar.max = 1; }
    bar.value = bar.max;
    source.close();
  });
  source.onerror = () => { if (status.dataset.status !== "running") source.close(); };
}

document.addEventListener("DOMContentLoaded", () => { searchAsYouType(); panZoom(); jobProgress(); });
