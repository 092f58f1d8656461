// Time-travel player for one wfkit workflow instance, and the determinism-check
// divergence view. Python owns the cursor: this file shows the frame it sends (trait
// "frame": event, locals, line, pending tasks, status), the orchestrator's source
// ("source"), a window of the history ("rows" from "rows_start") and the graph as it
// stood ("graph"), and moves the cursor by setting "position". The graph is drawn by the
// execution-graph widget's code (graph.js, bundled in); a graph without a layout as a
// compact list.

import { h as el_ } from "./dom.js";
import { render as renderGraph } from "./graph.js";

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

// ------------------------------------------------------------------ the code pane
function codeBlock(source, line, options = {}) {
  const pre = el_("pre", { class: "wfk-tt-code-lines" });
  const lines = (source && source.lines) || [];
  const start = (source && source.start) || 1;
  let current = null;
  lines.forEach((text, i) => {
    const number = start + i;
    const row = el_(
      "div",
      { class: "wfk-tt-code-line" + (number === line ? " wfk-tt-current" : ""), "data-line": number },
      el_("span", { class: "wfk-tt-gutter" }, String(number)),
      el_("span", { class: "wfk-tt-text" }, text.length ? text : " "),
    );
    if (number === line) current = row;
    pre.append(row);
  });
  if (!lines.length) {
    pre.append(el_("div", { class: "wfk-tt-muted" }, options.empty || "(source not available)"));
  }
  return { pre, current };
}

function scrollWithin(container, target) {
  if (!container || !target) return;
  const top = target.offsetTop - container.clientHeight / 2 + target.clientHeight / 2;
  container.scrollTop = Math.max(0, top);
}

// ------------------------------------------------------------------ the graph pane
function compactGraph(graph) {
  const box = el_("div", { class: "wfk-tt-graph-list" });
  if (!graph || !graph.steps) {
    box.append(el_("div", { class: "wfk-tt-muted" }, graph && graph.error ? graph.error : "no graph"));
    return box;
  }
  const nodes = Object.fromEntries((graph.nodes || []).map((n) => [n.id, n]));
  const groups = Object.fromEntries((graph.groups || []).map((g) => [g.id, g]));
  const item = (id) => {
    const n = nodes[id];
    if (n) {
      return el_(
        "div",
        { class: `wfk-tt-node ${statusClass(n.status)}`, "data-id": id, "data-status": n.status },
        el_("span", { class: "wfk-tt-kind" }, n.kind),
        " ",
        el_("span", {}, cut(n.name || "", 40)),
        " ",
        el_("span", { class: "wfk-tt-muted" }, n.label || n.status || ""),
      );
    }
    const g = groups[id];
    if (!g) return null;
    const children = (g.children || []).slice(0, 12).map(item);
    const more = (g.size || (g.children || []).length) - children.length;
    return el_(
      "div",
      { class: `wfk-tt-group ${statusClass(g.status)}`, "data-id": id, "data-status": g.status },
      el_("div", { class: "wfk-tt-group-title" }, g.label || `when_${g.mode}`),
      children,
      more > 0 ? el_("div", { class: "wfk-tt-muted" }, `… ${more.toLocaleString()} more`) : null,
    );
  };
  for (const id of graph.steps) box.append(item(id));
  return box;
}

function graphModel(initial) {
  // What the graph widget's render() reads of its model, kept in this file.
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
    save_changes() {},
  };
}

// ------------------------------------------------------------------ the player
function renderPlayer(model, el) {
  const root = el_("div", { class: "wfk-tt", tabindex: "0", "data-role": "player" });
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
  const button = (label, role, title, action) =>
    el_("button", { class: "wfk-tt-button", "data-role": role, title, onclick: action }, label);
  const first = button("« first", "first", "first event (Home)", () => go(0));
  const back = button("◀ back", "back", "previous event (←)", () => go(model.get("position") - 1));
  const play = button("▶ play", "play", "play (space)", () => (timer === null ? start() : stop()));
  const step = button("step ▶", "step", "next event (→)", () => go(model.get("position") + 1));
  const last = button("last »", "last", "last event (End)", () => go(model.get("length") - 1));
  const slider = el_("input", { class: "wfk-tt-slider", type: "range", min: "0", step: "1", "data-role": "slider", "aria-label": "history position" });
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
  const counter = el_("span", { class: "wfk-tt-counter", "data-role": "counter" });
  const title = el_("div", { class: "wfk-tt-title" });
  const bar = el_("div", { class: "wfk-tt-bar" }, first, back, play, step, last, slider, counter);

  const code = el_("div", { class: "wfk-tt-code", "data-role": "code" });
  const where = el_("div", { class: "wfk-tt-where" });
  const status = el_("div", { class: "wfk-tt-state", "data-role": "state" });
  const locals = el_("div", { class: "wfk-tt-locals", "data-role": "locals" });
  const graphPane = el_("div", { class: "wfk-tt-graph", "data-role": "graph" });
  const history = el_("div", { class: "wfk-tt-history", "data-role": "history" });
  const left = el_("div", { class: "wfk-tt-left" }, where, code);
  const right = el_("div", { class: "wfk-tt-right" }, status, el_("div", { class: "wfk-tt-heading" }, "locals"), locals);
  root.append(title, bar, el_("div", { class: "wfk-tt-main" }, left, right), el_("div", { class: "wfk-tt-lower" }, graphPane, history));
  el.append(root);

  const graphView = { render: renderGraph };
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
    title.replaceChildren(el_("strong", {}, model.get("title") || "workflow"));
  }

  function drawCode() {
    const frame = model.get("frame") || {};
    const source = model.get("source") || {};
    const { pre, current } = codeBlock(source, frame.line);
    code.replaceChildren(pre);
    where.replaceChildren(
      el_("code", {}, `${source.file ? source.file.split("/").pop() : "?"}${frame.line ? ":" + frame.line : ""}`),
      " ",
      el_("span", { class: "wfk-tt-muted" }, frame.function ? `in ${frame.function}` : ""),
    );
    scrollWithin(code, current);
  }

  function drawState() {
    const f = model.get("frame") || {};
    const rows = [];
    const row = (k, v, cls) => {
      if (v === undefined || v === null || v === "") return;
      rows.push(el_("tr", {}, el_("th", {}, k), el_("td", { class: cls || "" }, v)));
    };
    row("event", `${f.index} · ${f.kind}${f.name ? " " + f.name : ""}${f.event_id >= 0 ? " (#" + f.event_id + ")" : ""}`);
    row("status", el_("span", { class: `wfk-tt-badge ${statusClass(f.status)}`, "data-status": f.status }, f.status || ""));
    row("virtual time", when(f.time));
    if (f.custom_status !== null && f.custom_status !== undefined) row("custom status", cut(show(f.custom_status), 200));
    const waits = (f.pending || []).map((p) =>
      el_("div", { class: "wfk-tt-pending" }, `${p.kind} ${p.name || ""}${p.task_id !== null ? " #" + p.task_id : ""}${p.fire_at ? " at " + when(p.fire_at) : ""}`),
    );
    if (waits.length) row("waiting for", el_("div", {}, waits));
    if (f.output !== null && f.output !== undefined) row("output", cut(show(f.output), 200));
    if (f.failure) row("failure", `${f.failure.type}: ${cut(f.failure.message, 200)}`, "wfk-tt-error");
    if (f.error) row("replay error", cut(f.error, 400), "wfk-tt-error");
    status.replaceChildren(el_("table", { class: "wfk-tt-kv" }, rows));
  }

  function drawLocals() {
    const f = model.get("frame") || {};
    const entries = Object.entries(f.locals || {});
    if (!entries.length) {
      locals.replaceChildren(el_("div", { class: "wfk-tt-muted" }, f.line ? "(no locals)" : "(not started)"));
      return;
    }
    locals.replaceChildren(
      el_(
        "table",
        { class: "wfk-tt-kv" },
        entries.map(([k, v]) =>
          el_("tr", { "data-name": k }, el_("th", {}, k), el_("td", { title: cut(show(v), 2000) }, cut(show(v), 160))),
        ),
      ),
    );
  }

  function drawHistory() {
    const rows = model.get("rows") || [];
    const p = model.get("position");
    let current = null;
    const body = rows.map((r) => {
      const tr = el_(
        "tr",
        { class: r.index === p ? "wfk-tt-current" : "", "data-index": r.index, onclick: () => go(r.index) },
        el_("td", {}, String(r.index)),
        el_("td", {}, r.kind),
        el_("td", {}, r.event_id >= 0 ? String(r.event_id) : r.task_id !== null && r.task_id !== undefined ? `→${r.task_id}` : ""),
        el_("td", {}, cut(r.name || "", 40)),
        el_("td", {}, when(r.timestamp)),
      );
      if (r.index === p) current = tr;
      return tr;
    });
    const table = el_(
      "table",
      { class: "wfk-tt-table" },
      el_("thead", {}, el_("tr", {}, ["#", "event", "id", "name", "time"].map((t) => el_("th", {}, t)))),
      el_("tbody", {}, body),
    );
    history.replaceChildren(table);
    scrollWithin(history, current);
  }

  function drawGraph() {
    const graph = model.get("graph") || {};
    if (graphView && graph.nodes && graph.width !== undefined) {
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
      " ": () => (timer === null ? start() : stop()),
    };
    if (ev.target === slider && ev.key.startsWith("Arrow")) return; // the slider moves itself
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
    ["change:graph", drawGraph],
  ];
  for (const [name, cb] of handlers) model.on(name, cb);
  return () => {
    stop();
    for (const [name, cb] of handlers) model.off(name, cb);
    if (typeof graphCleanup === "function") graphCleanup();
  };
}

// ------------------------------------------------------------------ the divergence view
function side(label, part, cls) {
  const box = el_("div", { class: `wfk-tt-side ${cls}`, "data-role": cls });
  box.append(el_("div", { class: "wfk-tt-heading" }, label));
  if (!part) {
    box.append(el_("div", { class: "wfk-tt-muted" }, "—"));
    return box;
  }
  box.append(el_("div", { class: "wfk-tt-what" }, part.what || ""));
  if (part.line) {
    box.append(
      el_("div", { class: "wfk-tt-where" }, el_("code", {}, `${part.file ? part.file.split("/").pop() : "?"}:${part.line}`)),
    );
  }
  const { pre } = codeBlock(part.start ? part : null, part.line, { empty: "(the code is not available)" });
  box.append(el_("div", { class: "wfk-tt-code" }, pre));
  return box;
}

function renderDivergence(model, el) {
  const root = el_("div", { class: "wfk-tt wfk-tt-divergence", "data-role": "divergence" });
  el.append(root);
  const draw = () => {
    const d = model.get("divergence") || {};
    const head = el_("div", { class: "wfk-tt-title" }, el_("strong", {}, model.get("title") || "determinism check"));
    if (d.ok) {
      root.replaceChildren(head, el_("div", { class: "wfk-tt-ok", "data-role": "verdict" }, d.summary || "the code replays the history"));
      return;
    }
    if (d.error) {
      root.replaceChildren(head, el_("div", { class: "wfk-tt-error", "data-role": "verdict" }, d.error));
      return;
    }
    root.replaceChildren(
      head,
      el_("div", { class: "wfk-tt-error", "data-role": "verdict" }, d.message || ""),
      el_(
        "div",
        { class: "wfk-tt-columns" },
        side(`recorded (history event ${d.index})`, d.recorded, "recorded"),
        side("current code", d.current, "current"),
      ),
    );
  };
  draw();
  model.on("change:divergence", draw);
  return () => model.off("change:divergence", draw);
}

function render({ model, el }) {
  if (model.get("view") === "divergence") return renderDivergence(model, el);
  return renderPlayer(model, el);
}

export default { render };
