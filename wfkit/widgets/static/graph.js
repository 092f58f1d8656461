// src/dom.js
var SVG = "http://www.w3.org/2000/svg";
function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== void 0 && v !== null && v !== false) e.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === void 0 || c === false) continue;
    e.append(typeof c === "string" || typeof c === "number" ? String(c) : c);
  }
  return e;
}
function s(tag, attrs = {}, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== void 0 && v !== null) e.setAttribute(k, v);
  }
  if (text !== void 0) e.textContent = text;
  return e;
}

// src/graph.js
var STATUSES = [
  "scheduled",
  "running",
  "retrying",
  "waiting",
  "completed",
  "failed",
  "timed out",
  "cancelled"
];
var KIND = {
  activity: "activity",
  timer: "timer",
  event: "event",
  child: "child workflow",
  start: "start",
  end: "end"
};
function slug(status) {
  return String(status || "").replace(/\s+/g, "-");
}
function clip(text, n) {
  text = String(text ?? "");
  return text.length > n ? text.slice(0, n - 1) + "…" : text;
}
function fmtTime(iso) {
  return iso ? iso.replace("T", " ") : "";
}
function fmtSeconds(sec) {
  if (sec === void 0 || sec === null) return "";
  if (sec < 1) return `${Math.round(sec * 1e3)} ms`;
  if (sec < 120) return `${+sec.toFixed(2)} s`;
  if (sec < 7200) return `${+(sec / 60).toFixed(1)} min`;
  if (sec < 172800) return `${+(sec / 3600).toFixed(1)} h`;
  return `${+(sec / 86400).toFixed(1)} d`;
}
function tooltipLines(n) {
  const lines = [`${KIND[n.kind] || n.kind}: ${n.name}`, `status: ${n.label}`];
  if (n.scheduled_at) lines.push(`scheduled: ${fmtTime(n.scheduled_at)}`);
  if (n.finished_at) lines.push(`finished: ${fmtTime(n.finished_at)}`);
  if (n.virtual_s !== void 0) lines.push(`virtual: ${fmtSeconds(n.virtual_s)}`);
  if (n.wall_ms !== void 0) lines.push(`wall: ${fmtSeconds(n.wall_ms / 1e3)}`);
  if (n.fire_at) lines.push(`fires at: ${fmtTime(n.fire_at)}`);
  if (n.attempts > 1) lines.push(`attempts: ${n.attempts}`);
  if (n.input) lines.push(`input: ${n.input}`);
  if (n.output) lines.push(`output: ${n.output}`);
  if (n.error) lines.push(`error: ${n.error}`);
  if (n.child_instance_id) lines.push(`instance: ${n.child_instance_id} (click to open)`);
  return lines;
}
function drawNode(n, send) {
  const g = s("g", {
    class: `wfkit-node wfkit-status-${slug(n.status)}`,
    "data-id": n.id,
    "data-kind": n.kind,
    "data-status": n.status,
    transform: `translate(${n.x},${n.y})`,
    tabindex: "0",
    role: "button",
    "aria-label": `${KIND[n.kind] || n.kind} ${n.name}: ${n.label}`
  });
  const round = n.kind === "start" || n.kind === "end" ? 22 : 6;
  g.append(s("rect", { class: "wfkit-node-box", width: n.w, height: n.h, rx: round, ry: round }));
  g.append(s("rect", { class: "wfkit-node-bar", width: 6, height: n.h - 8, x: 4, y: 4, rx: 3 }));
  g.append(s("text", { class: "wfkit-node-kind", x: 16, y: 14 }, (KIND[n.kind] || n.kind).toUpperCase()));
  g.append(s("text", { class: "wfkit-node-name", x: 16, y: 29 }, clip(n.name, 22)));
  g.append(s("text", { class: "wfkit-node-label", x: 16, y: 42 }, clip(n.label, 26)));
  if (n.awaited === false) {
    g.append(s("text", { class: "wfkit-node-kind", x: n.w - 8, y: 14, "text-anchor": "end" }, "not awaited"));
  }
  g.addEventListener("click", () => send({ type: "select", id: n.id }));
  g.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" || ev.key === " ") {
      ev.preventDefault();
      send({ type: "select", id: n.id });
    }
  });
  return g;
}
function drawGroup(gr, send) {
  const g = s("g", {
    class: `wfkit-group wfkit-status-${slug(gr.status)}` + (gr.collapsed ? " wfkit-group-collapsed" : ""),
    "data-id": gr.id,
    "data-status": gr.status,
    "data-size": gr.size,
    transform: `translate(${gr.x},${gr.y})`
  });
  g.append(s("rect", { class: "wfkit-group-box", width: gr.w, height: gr.h, rx: 8, ry: 8 }));
  const done = `${gr.done.toLocaleString()}/${gr.size.toLocaleString()} done`;
  g.append(s("text", { class: "wfkit-group-title", x: 10, y: 16 }, `${gr.label} · ${done}`));
  if (gr.collapsed) {
    const barW = gr.w - 20;
    g.append(s("rect", { class: "wfkit-progress-bg", x: 10, y: 26, width: barW, height: 10, rx: 5 }));
    let x = 10;
    for (const st of STATUSES) {
      const c = gr.counts[st] || 0;
      if (!c || st === "scheduled") continue;
      const w = barW * c / gr.size;
      g.append(s("rect", { class: `wfkit-progress wfkit-fill-${slug(st)}`, x, y: 26, width: w, height: 10 }));
      x += w;
    }
    const counts = STATUSES.filter((st) => gr.counts[st]).map((st) => `${st} ${gr.counts[st].toLocaleString()}`);
    g.append(s("text", { class: "wfkit-group-counts", x: 10, y: 52 }, clip(counts.join(" · "), 52)));
    const more = s("text", { class: "wfkit-link", x: 10, y: 68, tabindex: "0", role: "button" }, "▸ expand");
    more.addEventListener("click", () => send({ type: "expand", id: gr.id, page: 0 }));
    g.append(more);
    g.append(s("title", {}, counts.join("\n")));
  } else if (gr.pages > 1) {
    const y = gr.h - 12;
    const items = [
      ["◂ prev", gr.page > 0, () => send({ type: "expand", id: gr.id, page: gr.page - 1 })],
      [`page ${gr.page + 1} of ${gr.pages}`, false, null],
      ["next ▸", gr.page < gr.pages - 1, () => send({ type: "expand", id: gr.id, page: gr.page + 1 })],
      ["▴ collapse", true, () => send({ type: "collapse", id: gr.id })]
    ];
    let x = 10;
    for (const [text, active, action] of items) {
      const t = s("text", { class: active ? "wfkit-link" : "wfkit-muted", x, y }, text);
      if (active && action) t.addEventListener("click", action);
      g.append(t);
      x += text.length * 7 + 14;
    }
  }
  return g;
}
function render({ model, el }) {
  const send = (msg) => model.send(msg);
  const root = h("div", { class: "wfkit-graph" });
  const header = h("div", { class: "wfkit-graph-header" });
  const canvas = h("div", { class: "wfkit-graph-canvas" });
  const tooltip = h("div", { class: "wfkit-tooltip", hidden: "" });
  const detail = h("div", { class: "wfkit-graph-detail", hidden: "" });
  root.append(header, canvas, detail, tooltip);
  el.append(root);
  function showTooltip(node, ev) {
    tooltip.replaceChildren(...tooltipLines(node).map((l) => h("div", {}, l)));
    tooltip.hidden = false;
    const box = root.getBoundingClientRect();
    tooltip.style.left = `${Math.min(ev.clientX - box.left + 14, box.width - 280)}px`;
    tooltip.style.top = `${ev.clientY - box.top + 14}px`;
  }
  function drawHeader(graph) {
    const inst = graph.instance || {};
    const trail = model.get("trail") || [];
    const parts = [];
    if (trail.length) {
      parts.push(h("button", { class: "wfkit-button wfkit-back", onclick: () => send({ type: "back" }) }, `◂ ${clip(trail[trail.length - 1], 24)}`));
    }
    parts.push(h("span", { class: "wfkit-title" }, inst.name || "workflow"));
    parts.push(h("code", { class: "wfkit-instance" }, inst.id || ""));
    parts.push(h("span", { class: `wfkit-badge wfkit-instance-status`, "data-status": inst.status }, inst.status || ""));
    const counts = graph.counts || {};
    const chips = STATUSES.filter((st) => counts[st]).map(
      (st) => h("span", { class: `wfkit-chip wfkit-status-${slug(st)}`, "data-status": st }, h("i", {}), `${st} ${counts[st].toLocaleString()}`)
    );
    header.replaceChildren(h("div", { class: "wfkit-row" }, parts), h("div", { class: "wfkit-row wfkit-chips" }, chips));
    if (inst.error) header.append(h("div", { class: "wfkit-error" }, inst.error));
  }
  function draw() {
    const graph = model.get("graph") || {};
    drawHeader(graph);
    const scroll = [canvas.scrollLeft, canvas.scrollTop];
    canvas.style.maxHeight = `${model.get("height")}px`;
    const svg = s("svg", {
      class: "wfkit-graph-svg",
      width: graph.width || 0,
      height: graph.height || 0,
      viewBox: `0 0 ${graph.width || 0} ${graph.height || 0}`
    });
    const defs = s("defs");
    const marker = s("marker", { id: "wfkit-arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto" });
    marker.append(s("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "wfkit-arrow" }));
    defs.append(marker);
    svg.append(defs);
    const groups = [...graph.groups || []].sort((a, b) => b.w * b.h - a.w * a.h);
    for (const gr of groups) if (gr.x !== void 0) svg.append(drawGroup(gr, send));
    for (const e of graph.edges || []) {
      if (!e.points) continue;
      const d = e.points.map(([x, y], i) => `${i ? "L" : "M"} ${x} ${y}`).join(" ");
      svg.append(s("path", { d, class: `wfkit-edge wfkit-edge-${e.kind}`, "marker-end": e.kind === "fork" ? null : "url(#wfkit-arrow)" }));
    }
    const selected = model.get("selected");
    for (const n of graph.nodes || []) {
      if (n.x === void 0) continue;
      const g = drawNode(n, send);
      if (n.id === selected) g.classList.add("wfkit-selected");
      g.addEventListener("mousemove", (ev) => showTooltip(n, ev));
      g.addEventListener("mouseleave", () => tooltip.hidden = true);
      if (n.kind === "child" && n.child_instance_id) {
        g.addEventListener("dblclick", () => send({ type: "open", instance_id: n.child_instance_id }));
      }
      svg.append(g);
    }
    canvas.replaceChildren(svg);
    [canvas.scrollLeft, canvas.scrollTop] = scroll;
  }
  function block(title, text, cls) {
    if (text === void 0 || text === null) return null;
    return h("details", { class: `wfkit-payload ${cls || ""}`, open: "" }, h("summary", {}, title), h("pre", {}, text));
  }
  function drawDetail() {
    const d = model.get("detail") || {};
    if (!d.id) {
      detail.hidden = true;
      detail.replaceChildren();
      return;
    }
    const graph = model.get("graph") || {};
    const node = (graph.nodes || []).find((n) => n.id === d.id) || {};
    const rows = [];
    const row = (k, v) => v !== void 0 && v !== null && v !== "" && rows.push(h("tr", {}, h("th", {}, k), h("td", {}, String(v))));
    row("status", node.label);
    row("scheduled (virtual)", fmtTime(d.scheduled_at || d.at));
    row("finished (virtual)", fmtTime(d.finished_at));
    row("duration (virtual)", fmtSeconds(d.virtual_s));
    row("duration (wall)", d.wall_ms !== void 0 ? fmtSeconds(d.wall_ms / 1e3) : void 0);
    row("fires at", fmtTime(d.fire_at));
    row("attempts", d.attempt_count);
    row("task id", (d.attempts || []).map((a) => a.task_id).join(", "));
    const parts = [
      h(
        "div",
        { class: "wfkit-row" },
        h("strong", {}, `${KIND[d.kind] || d.kind}: ${d.name || node.name || ""}`),
        d.child_instance_id ? h("button", { class: "wfkit-button wfkit-open-child", onclick: () => send({ type: "open", instance_id: d.child_instance_id }) }, "open child graph ▸") : null,
        h("button", { class: "wfkit-button wfkit-close", onclick: () => send({ type: "select", id: "" }) }, "✕")
      ),
      h("table", { class: "wfkit-kv" }, rows)
    ];
    if ((d.attempts || []).length > 1) {
      parts.push(
        h(
          "table",
          { class: "wfkit-attempts" },
          h("tr", {}, ["#", "task id", "scheduled", "finished", "wall", "result"].map((t) => h("th", {}, t))),
          d.attempts.map(
            (a) => h(
              "tr",
              {},
              h("td", {}, a.attempt),
              h("td", {}, a.task_id),
              h("td", {}, fmtTime(a.scheduled_at)),
              h("td", {}, fmtTime(a.finished_at)),
              h("td", {}, a.wall_ms !== void 0 ? fmtSeconds(a.wall_ms / 1e3) : ""),
              h("td", {}, a.error ? `${a.error.type}: ${clip(a.error.message, 60)}` : a.status)
            )
          )
        )
      );
    }
    parts.push(block("input", d.input));
    parts.push(block("output", d.output));
    if (d.error) {
      const e = d.error;
      parts.push(block("error", `${e.type}: ${e.message}${e.stack_trace ? "\n\n" + e.stack_trace : ""}`, "wfkit-payload-error"));
    }
    detail.replaceChildren(...parts.filter(Boolean));
    detail.hidden = false;
  }
  const redraw = () => {
    draw();
    drawDetail();
  };
  redraw();
  model.on("change:graph", redraw);
  model.on("change:trail", draw);
  model.on("change:height", draw);
  model.on("change:selected", draw);
  model.on("change:detail", drawDetail);
  return () => {
    model.off("change:graph", redraw);
    model.off("change:trail", draw);
    model.off("change:height", draw);
    model.off("change:selected", draw);
    model.off("change:detail", drawDetail);
  };
}
var graph_default = { render };
export {
  graph_default as default,
  render
};
