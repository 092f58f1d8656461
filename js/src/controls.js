// Form controls whose state the Python side owns, as with ipywidgets: the trait "controls"
// maps a control's name to {value, options, disabled} (a select's or a row of toggles' value
// is the index of its option). What the user does goes back as a typed message: input (text), choose (select),
// check (checkbox), click (button); the Python side answers with the new state.

import { h } from "./dom.js";

let lists = 0;

function field(label, cls, control) {
  return h("label", { class: `wfkit-field ${cls}` }, label ? h("span", { class: "wfkit-field-label" }, label) : null, control);
}

function sameList(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export class Controls {
  constructor(model) {
    this.model = model;
    this.items = new Map();
    this.sent = new Map(); // text sent and not yet echoed, per control
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
      else if (typing) return; // an echo of older text: keep what is being typed
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
}
