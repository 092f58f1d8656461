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

// src/player.js
function cut(text, n) {
  text = String(text ?? "");
  return text.length > n ? text.slice(0, n - 1) + "…" : text;
}
function show(value) {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value);
  } catch (e) {
    return String(value);
  }
}
function when(iso) {
  return iso ? iso.replace("T", " ") : "";
}
function statusClass(status) {
  return "wfk-tt-status-" + String(status || "").toLowerCase().replace(/[^a-z]+/g, "-");
}
function codeBlock(source, line, options = {}) {
  const pre = h("pre", { class: "wfk-tt-code-lines" });
  const lines = source && source.lines || [];
  const start = source && source.start || 1;
  let current = null;
  lines.forEach((text, i) => {
    const number = start + i;
    const row = h(
      "div",
      { class: "wfk-tt-code-line" + (number === line ? " wfk-tt-current" : ""), "data-line": number },
      h("span", { class: "wfk-tt-gutter" }, String(number)),
      h("span", { class: "wfk-tt-text" }, text.length ? text : " ")
    );
    if (number === line) current = row;
    pre.append(row);
  });
  if (!lines.length) {
    pre.append(h("div", { class: "wfk-tt-muted" }, options.empty || "(source not available)"));
  }
  return { pre, current };
}
function scrollWithin(container, target) {
  if (!container || !target) return;
  const top = target.offsetTop - container.clientHeight / 2 + target.clientHeight / 2;
  container.scrollTop = Math.max(0, top);
}
function compactGraph(graph) {
  const box = h("div", { class: "wfk-tt-graph-list" });
  if (!graph || !graph.steps) {
    box.append(h("div", { class: "wfk-tt-muted" }, graph && graph.error ? graph.error : "no graph"));
    return box;
  }
  const nodes = Object.fromEntries((graph.nodes || []).map((n) => [n.id, n]));
  const groups = Object.fromEntries((graph.groups || []).map((g) => [g.id, g]));
  const item = (id) => {
    const n = nodes[id];
    if (n) {
      return h(
        "div",
        { class: `wfk-tt-node ${statusClass(n.status)}`, "data-id": id, "data-status": n.status },
        h("span", { class: "wfk-tt-kind" }, n.kind),
        " ",
        h("span", {}, cut(n.name || "", 40)),
        " ",
        h("span", { class: "wfk-tt-muted" }, n.label || n.status || "")
      );
    }
    const g = groups[id];
    if (!g) return null;
    const children = (g.children || []).slice(0, 12).map(item);
    const more = (g.size || (g.children || []).length) - children.length;
    return h(
      "div",
      { class: `wfk-tt-group ${statusClass(g.status)}`, "data-id": id, "data-status": g.status },
      h("div", { class: "wfk-tt-group-title" }, g.label || `when_${g.mode}`),
      children,
      more > 0 ? h("div", { class: "wfk-tt-muted" }, `… ${more.toLocaleString()} more`) : null
    );
  };
  for (const id of graph.steps) box.append(item(id));
  return box;
}
function graphModel(initial) {
  const state = { graph: {}, trail: [], height: 360, selected: "", detail: {}, ...initial };
  const listeners = {};
  return {
    get: (name) => state[name],
    set(name, value) {
      state[name] = value;
      for (const cb of listeners[`change:${name}`] || []) cb();
    },
    on(name, cb) {
      (listeners[name] = listeners[name] || []).push(cb);
    },
    off(name, cb) {
      listeners[name] = (listeners[name] || []).filter((x) => x !== cb);
    },
    send(msg) {
      if (msg && msg.type === "select") this.set("selected", msg.id || "");
    },
    save_changes() {
    }
  };
}
function renderPlayer(model, el) {
  const root = h("div", { class: "wfk-tt", tabindex: "0", "data-role": "player" });
  const go = (n) => {
    const length = model.get("length");
    n = Math.max(0, Math.min(length - 1, n));
    if (n === model.get("position")) return;
    model.set("position", n);
    model.save_changes();
  };
  let timer = null;
  const stop = () => {
    if (timer !== null) clearInterval(timer);
    timer = null;
    play.textContent = "▶ play";
    play.setAttribute("aria-pressed", "false");
  };
  const start = () => {
    if (model.get("position") >= model.get("length") - 1) go(0);
    timer = setInterval(() => {
      const p = model.get("position");
      const end = model.get("length") - 1;
      if (p < end) go(p + 1);
      if (p + 1 >= end) stop();
    }, Math.max(50, model.get("interval") || 400));
    play.textContent = "⏸ pause";
    play.setAttribute("aria-pressed", "true");
  };
  const button = (label, role, title2, action) => h("button", { class: "wfk-tt-button", "data-role": role, title: title2, onclick: action }, label);
  const first = button("« first", "first", "first event (Home)", () => go(0));
  const back = button("◀ back", "back", "previous event (←)", () => go(model.get("position") - 1));
  const play = button("▶ play", "play", "play (space)", () => timer === null ? start() : stop());
  const step = button("step ▶", "step", "next event (→)", () => go(model.get("position") + 1));
  const last = button("last »", "last", "last event (End)", () => go(model.get("length") - 1));
  const slider = h("input", { class: "wfk-tt-slider", type: "range", min: "0", step: "1", "data-role": "slider", "aria-label": "history position" });
  let pending = null;
  slider.addEventListener("input", () => {
    const n = Number(slider.value);
    counter.textContent = `${n} / ${model.get("length") - 1}`;
    if (pending !== null) clearTimeout(pending);
    pending = setTimeout(() => {
      pending = null;
      go(n);
    }, 60);
  });
  slider.addEventListener("change", () => go(Number(slider.value)));
  const counter = h("span", { class: "wfk-tt-counter", "data-role": "counter" });
  const title = h("div", { class: "wfk-tt-title" });
  const bar = h("div", { class: "wfk-tt-bar" }, first, back, play, step, last, slider, counter);
  const code = h("div", { class: "wfk-tt-code", "data-role": "code" });
  const where = h("div", { class: "wfk-tt-where" });
  const status = h("div", { class: "wfk-tt-state", "data-role": "state" });
  const locals = h("div", { class: "wfk-tt-locals", "data-role": "locals" });
  const graphPane = h("div", { class: "wfk-tt-graph", "data-role": "graph" });
  const history = h("div", { class: "wfk-tt-history", "data-role": "history" });
  const left = h("div", { class: "wfk-tt-left" }, where, code);
  const right = h("div", { class: "wfk-tt-right" }, status, h("div", { class: "wfk-tt-heading" }, "locals"), locals);
  root.append(title, bar, h("div", { class: "wfk-tt-main" }, left, right), h("div", { class: "wfk-tt-lower" }, graphPane, history));
  el.append(root);
  const graphView = { render };
  let graphState = null;
  let graphCleanup = null;
  function drawBar() {
    const length = model.get("length");
    const p = model.get("position");
    slider.max = String(Math.max(0, length - 1));
    slider.value = String(p);
    counter.textContent = `${p} / ${Math.max(0, length - 1)}`;
    back.disabled = p <= 0;
    first.disabled = p <= 0;
    step.disabled = p >= length - 1;
    last.disabled = p >= length - 1;
    title.replaceChildren(h("strong", {}, model.get("title") || "workflow"));
  }
  function drawCode() {
    const frame = model.get("frame") || {};
    const source = model.get("source") || {};
    const { pre, current } = codeBlock(source, frame.line);
    code.replaceChildren(pre);
    where.replaceChildren(
      h("code", {}, `${source.file ? source.file.split("/").pop() : "?"}${frame.line ? ":" + frame.line : ""}`),
      " ",
      h("span", { class: "wfk-tt-muted" }, frame.function ? `in ${frame.function}` : "")
    );
    scrollWithin(code, current);
  }
  function drawState() {
    const f = model.get("frame") || {};
    const rows = [];
    const row = (k, v, cls) => {
      if (v === void 0 || v === null || v === "") return;
      rows.push(h("tr", {}, h("th", {}, k), h("td", { class: cls || "" }, v)));
    };
    row("event", `${f.index} · ${f.kind}${f.name ? " " + f.name : ""}${f.event_id >= 0 ? " (#" + f.event_id + ")" : ""}`);
    row("status", h("span", { class: `wfk-tt-badge ${statusClass(f.status)}`, "data-status": f.status }, f.status || ""));
    row("virtual time", when(f.time));
    if (f.custom_status !== null && f.custom_status !== void 0) row("custom status", cut(show(f.custom_status), 200));
    const waits = (f.pending || []).map(
      (p) => h("div", { class: "wfk-tt-pending" }, `${p.kind} ${p.name || ""}${p.task_id !== null ? " #" + p.task_id : ""}${p.fire_at ? " at " + when(p.fire_at) : ""}`)
    );
    if (waits.length) row("waiting for", h("div", {}, waits));
    if (f.output !== null && f.output !== void 0) row("output", cut(show(f.output), 200));
    if (f.failure) row("failure", `${f.failure.type}: ${cut(f.failure.message, 200)}`, "wfk-tt-error");
    if (f.error) row("replay error", cut(f.error, 400), "wfk-tt-error");
    status.replaceChildren(h("table", { class: "wfk-tt-kv" }, rows));
  }
  function drawLocals() {
    const f = model.get("frame") || {};
    const entries = Object.entries(f.locals || {});
    if (!entries.length) {
      locals.replaceChildren(h("div", { class: "wfk-tt-muted" }, f.line ? "(no locals)" : "(not started)"));
      return;
    }
    locals.replaceChildren(
      h(
        "table",
        { class: "wfk-tt-kv" },
        entries.map(
          ([k, v]) => h("tr", { "data-name": k }, h("th", {}, k), h("td", { title: cut(show(v), 2e3) }, cut(show(v), 160)))
        )
      )
    );
  }
  function drawHistory() {
    const rows = model.get("rows") || [];
    const p = model.get("position");
    let current = null;
    const body = rows.map((r) => {
      const tr = h(
        "tr",
        { class: r.index === p ? "wfk-tt-current" : "", "data-index": r.index, onclick: () => go(r.index) },
        h("td", {}, String(r.index)),
        h("td", {}, r.kind),
        h("td", {}, r.event_id >= 0 ? String(r.event_id) : r.task_id !== null && r.task_id !== void 0 ? `→${r.task_id}` : ""),
        h("td", {}, cut(r.name || "", 40)),
        h("td", {}, when(r.timestamp))
      );
      if (r.index === p) current = tr;
      return tr;
    });
    const table = h(
      "table",
      { class: "wfk-tt-table" },
      h("thead", {}, h("tr", {}, ["#", "event", "id", "name", "time"].map((t) => h("th", {}, t)))),
      h("tbody", {}, body)
    );
    history.replaceChildren(table);
    scrollWithin(history, current);
  }
  function drawGraph() {
    const graph = model.get("graph") || {};
    if (graphView && graph.nodes && graph.width !== void 0) {
      if (graphState === null) {
        graphState = graphModel({ graph, height: model.get("height") });
        graphPane.replaceChildren();
        graphCleanup = graphView.render({ model: graphState, el: graphPane });
      } else {
        graphState.set("graph", graph);
      }
      return;
    }
    graphPane.replaceChildren(compactGraph(graph));
  }
  const all = () => {
    drawBar();
    drawCode();
    drawState();
    drawLocals();
    drawHistory();
    drawGraph();
  };
  all();
  root.addEventListener("keydown", (ev) => {
    const keys = {
      ArrowRight: () => go(model.get("position") + 1),
      ArrowDown: () => go(model.get("position") + 1),
      ArrowLeft: () => go(model.get("position") - 1),
      ArrowUp: () => go(model.get("position") - 1),
      Home: () => go(0),
      End: () => go(model.get("length") - 1),
      " ": () => timer === null ? start() : stop()
    };
    if (ev.target === slider && ev.key.startsWith("Arrow")) return;
    const action = keys[ev.key];
    if (action) {
      ev.preventDefault();
      ev.stopPropagation();
      action();
    }
  });
  root.addEventListener("mousedown", (ev) => {
    if (ev.target === root) root.focus();
  });
  const handlers = [
    ["change:position", drawBar],
    ["change:length", drawBar],
    ["change:title", drawBar],
    ["change:frame", () => {
      drawCode();
      drawState();
      drawLocals();
    }],
    ["change:source", drawCode],
    ["change:rows", drawHistory],
    ["change:position", drawHistory],
    ["change:graph", drawGraph]
  ];
  for (const [name, cb] of handlers) model.on(name, cb);
  return () => {
    stop();
    for (const [name, cb] of handlers) model.off(name, cb);
    if (typeof graphCleanup === "function") graphCleanup();
  };
}
function side(label, part, cls) {
  const box = h("div", { class: `wfk-tt-side ${cls}`, "data-role": cls });
  box.append(h("div", { class: "wfk-tt-heading" }, label));
  if (!part) {
    box.append(h("div", { class: "wfk-tt-muted" }, "—"));
    return box;
  }
  box.append(h("div", { class: "wfk-tt-what" }, part.what || ""));
  if (part.line) {
    box.append(
      h("div", { class: "wfk-tt-where" }, h("code", {}, `${part.file ? part.file.split("/").pop() : "?"}:${part.line}`))
    );
  }
  const { pre } = codeBlock(part.start ? part : null, part.line, { empty: "(the code is not available)" });
  box.append(h("div", { class: "wfk-tt-code" }, pre));
  return box;
}
function renderDivergence(model, el) {
  const root = h("div", { class: "wfk-tt wfk-tt-divergence", "data-role": "divergence" });
  el.append(root);
  const draw = () => {
    const d = model.get("divergence") || {};
    const head = h("div", { class: "wfk-tt-title" }, h("strong", {}, model.get("title") || "determinism check"));
    if (d.ok) {
      root.replaceChildren(head, h("div", { class: "wfk-tt-ok", "data-role": "verdict" }, d.summary || "the code replays the history"));
      return;
    }
    if (d.error) {
      root.replaceChildren(head, h("div", { class: "wfk-tt-error", "data-role": "verdict" }, d.error));
      return;
    }
    root.replaceChildren(
      head,
      h("div", { class: "wfk-tt-error", "data-role": "verdict" }, d.message || ""),
      h(
        "div",
        { class: "wfk-tt-columns" },
        side(`recorded (history event ${d.index})`, d.recorded, "recorded"),
        side("current code", d.current, "current")
      )
    );
  };
  draw();
  model.on("change:divergence", draw);
  return () => model.off("change:divergence", draw);
}
function render2({ model, el }) {
  if (model.get("view") === "divergence") return renderDivergence(model, el);
  return renderPlayer(model, el);
}
var player_default = { render: render2 };
export {
  player_default as default
};
