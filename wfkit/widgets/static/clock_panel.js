// src/dom.js
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

// src/controls.js
var lists = 0;
function field(label, cls, control) {
  return h("label", { class: `wfkit-field ${cls}` }, label ? h("span", { class: "wfkit-field-label" }, label) : null, control);
}
function sameList(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
var Controls = class {
  constructor(model) {
    this.model = model;
    this.items = /* @__PURE__ */ new Map();
    this.sent = /* @__PURE__ */ new Map();
  }
  state(name) {
    return (this.model.get("controls") || {})[name] || {};
  }
  button(name, text, cls) {
    const el = h("button", { type: "button", class: `wfkit-button ${cls}`, onclick: () => this.model.send({ type: "click", name }) }, text);
    this.items.set(name, { kind: "button", el });
    return el;
  }
  text(name, label, cls, { placeholder, width } = {}) {
    const el = h("input", { type: "text", placeholder, style: width ? `width:${width}` : null });
    el.addEventListener("input", () => this.input(name, el.value));
    this.items.set(name, { kind: "text", el });
    return field(label, cls, el);
  }
  textarea(name, label, cls, { placeholder, width, height } = {}) {
    const el = h("textarea", { placeholder, style: `width:${width || "340px"};height:${height || "54px"}` });
    el.addEventListener("input", () => this.input(name, el.value));
    this.items.set(name, { kind: "text", el });
    return field(label, cls, el);
  }
  /** A text input that suggests its options (an <input> with a <datalist>). */
  combobox(name, label, cls, { placeholder, width } = {}) {
    const id = `wfkit-options-${++lists}-${Math.random().toString(36).slice(2, 8)}`;
    const list = h("datalist", { id });
    const el = h("input", { type: "text", list: id, placeholder, style: width ? `width:${width}` : null });
    el.addEventListener("input", () => this.input(name, el.value));
    this.items.set(name, { kind: "combobox", el, list, options: [] });
    return field(label, cls, h("span", {}, el, list));
  }
  select(name, label, cls, { width } = {}) {
    const el = h("select", { style: width ? `width:${width}` : null });
    el.addEventListener("change", () => this.model.send({ type: "choose", name, index: el.selectedIndex }));
    this.items.set(name, { kind: "select", el, options: [] });
    return field(label, cls, el);
  }
  /** A select drawn as a row of buttons, the chosen one pressed. */
  toggles(name, label, cls) {
    const el = h("span", { class: "wfkit-toggles" });
    this.items.set(name, { kind: "toggles", el, options: [] });
    return h("div", { class: `wfkit-field ${cls}`, role: "group", "aria-label": label }, h("span", { class: "wfkit-field-label" }, label), el);
  }
  checkbox(name, label, cls) {
    const el = h("input", { type: "checkbox" });
    el.addEventListener("change", () => this.model.send({ type: "check", name, value: el.checked }));
    this.items.set(name, { kind: "checkbox", el });
    return h("label", { class: `wfkit-field wfkit-check ${cls}` }, el, h("span", {}, label));
  }
  /** A pane whose HTML the Python side writes (escaped there). */
  html(name, cls, tag = "div") {
    const el = h(tag, { class: cls });
    this.items.set(name, { kind: "html", el, shown: null });
    return el;
  }
  input(name, value) {
    this.sent.set(name, value);
    this.model.send({ type: "input", name, value });
  }
  update() {
    for (const [name, item] of this.items) this.apply(name, item, this.state(name));
  }
  apply(name, item, st) {
    const { el } = item;
    if (item.kind !== "html" && item.kind !== "toggles") el.disabled = Boolean(st.disabled);
    if (item.kind === "html") {
      const text = st.value || "";
      if (item.shown !== text) el.innerHTML = item.shown = text;
    } else if (item.kind === "toggles") {
      const options = st.options || [];
      if (!sameList(options, item.options)) {
        item.options = options;
        const choose = (index) => () => this.model.send({ type: "choose", name, index });
        el.replaceChildren(...options.map((o, i) => h("button", { type: "button", class: "wfkit-button wfkit-toggle", onclick: choose(i) }, h("span", {}, o))));
      }
      [...el.children].forEach((button, i) => {
        button.setAttribute("aria-pressed", String(i === st.value));
        button.disabled = Boolean(st.disabled);
      });
    } else if (item.kind === "checkbox") {
      el.checked = Boolean(st.value);
    } else if (item.kind === "select") {
      const options = st.options || [];
      if (!sameList(options, item.options)) {
        item.options = options;
        el.replaceChildren(...options.map((o) => h("option", {}, o)));
      }
      el.selectedIndex = st.value ?? -1;
    } else {
      if (item.kind === "combobox" && !sameList(st.options || [], item.options)) {
        item.options = st.options || [];
        item.list.replaceChildren(...item.options.map((o) => h("option", { value: o })));
      }
      const value = st.value ?? "";
      const typing = this.sent.has(name) && el.getRootNode().activeElement === el;
      if (this.sent.get(name) === value) this.sent.delete(name);
      else if (typing) return;
      if (el.value !== value) el.value = value;
    }
  }
  /** Draw the state now and on each change; returns the function that stops listening. */
  follow() {
    const update = () => this.update();
    update();
    this.model.on("change:controls", update);
    return () => this.model.off("change:controls", update);
  }
};

// src/table.js
function table(cls, head, rows, { rowClass, empty } = {}) {
  const body = rows.map((cells) => h("tr", { class: rowClass }, cells.map((c) => h("td", {}, c ?? ""))));
  if (!rows.length && empty) body.push(h("tr", {}, h("td", { colspan: head.length, class: "wfkit-muted-text" }, empty)));
  return h("table", { class: `wfkit-table ${cls}` }, h("thead", {}, h("tr", {}, head.map((t) => h("th", {}, t)))), h("tbody", {}, body));
}

// src/clock_panel.js
var TIMER_HEAD = ["fires at (virtual)", "", "instance", "guards"];
function drawTime(view) {
  const skip = view.auto_skip ? " · auto-skip on" : "";
  return [
    h("span", { class: "wfkit-now" }, view.now || ""),
    " ",
    h("span", { class: "wfkit-muted-text" }, `UTC, ${view.kind || "virtual"} time${skip}`),
    view.error ? h("div", { class: "wfkit-runtime-error" }, view.error) : null
  ];
}
function drawTimers(view) {
  const timers = view.timers || [];
  if (!timers.length) return [h("div", { class: "wfkit-no-timers wfkit-muted-text" }, "no pending timers")];
  const rows = timers.map((t) => [t.fire_at, t.relative, h("code", {}, t.instance_id), t.guard]);
  const more = view.more ? h("div", { class: "wfkit-muted-text" }, `… and ${view.more.toLocaleString("en-US")} more`) : null;
  return [table("wfkit-timer-table", TIMER_HEAD, rows), more];
}
function render({ model, el }) {
  const c = new Controls(model);
  const time = h("div", { class: "wfkit-clock-time" });
  const timers = h("div", { class: "wfkit-timers" });
  const root = h(
    "div",
    { class: "wfkit-clock-panel" },
    h("div", { class: "wfkit-heading" }, "Clock"),
    time,
    h(
      "div",
      { class: "wfkit-row" },
      c.button("next_button", "Next timer ▸", "wfkit-next-timer"),
      c.text("duration", "", "wfkit-duration", { placeholder: "90s, 15m, 2h, 7d", width: "90px" }),
      c.button("advance_button", "Advance by", "wfkit-advance"),
      c.text("target", "", "wfkit-target", { placeholder: "YYYY-MM-DD HH:MM:SS", width: "170px" }),
      c.button("advance_to_button", "Advance to", "wfkit-advance-to"),
      c.checkbox("auto_skip", "auto-skip", "wfkit-auto-skip")
    ),
    timers,
    h("div", { class: "wfkit-heading" }, "Events and control"),
    h(
      "div",
      { class: "wfkit-row" },
      c.select("instance", "instance", "wfkit-event-instance", { width: "270px" }),
      c.button("pause_button", "Pause", "wfkit-pause"),
      c.button("resume_button", "Resume", "wfkit-resume"),
      c.button("terminate_button", "Terminate", "wfkit-terminate wfkit-danger")
    ),
    h("div", { class: "wfkit-row" }, c.combobox("event_name", "event", "wfkit-event-name", { placeholder: "event name", width: "200px" })),
    h(
      "div",
      { class: "wfkit-row wfkit-top" },
      c.textarea("payload", "", "wfkit-event-payload", { placeholder: 'JSON payload, e.g. {"approved": true}' }),
      c.button("raise_button", "Raise event", "wfkit-raise-event")
    ),
    c.html("payload_error", "wfkit-payload-error"),
    c.html("message", "wfkit-clock-message")
  );
  el.append(root);
  function draw() {
    const view = model.get("clock_view") || {};
    time.replaceChildren(...drawTime(view).filter(Boolean));
    timers.replaceChildren(...drawTimers(view).filter(Boolean));
  }
  draw();
  model.on("change:clock_view", draw);
  const stop = c.follow();
  return () => {
    model.off("change:clock_view", draw);
    stop();
  };
}
var clock_panel_default = { render };
export {
  clock_panel_default as default,
  render
};
