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

// src/progress.js
function render({ model, el }) {
  const fill = h("div", { class: "wfkit-progress-fill" });
  const bar = h("div", { class: "wfkit-progress-bar", role: "progressbar", "aria-valuemin": 0 }, fill);
  const label = h("span", { class: "wfkit-progress-label" });
  el.append(h("div", { class: "wfkit-progress" }, bar, label));
  function draw() {
    const view = model.get("progress_view") || {};
    const max = Math.max(view.max || 1, 1);
    const value = view.value || 0;
    fill.style.width = `${Math.min(100, 100 * value / max)}%`;
    bar.dataset.style = view.style || "";
    bar.setAttribute("aria-valuemax", max);
    bar.setAttribute("aria-valuenow", value);
    label.textContent = view.text || "";
  }
  draw();
  model.on("change:progress_view", draw);
  return () => model.off("change:progress_view", draw);
}
var progress_default = { render };
export {
  progress_default as default,
  render
};
