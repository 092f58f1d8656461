// Progress of run_many: a bar and a line of text. The Python side sends both (trait
// "progress_view": value, max, style and text); this file draws them.

import { h } from "./dom.js";

export function render({ model, el }) {
  const fill = h("div", { class: "wfkit-progress-fill" });
  const bar = h("div", { class: "wfkit-progress-bar", role: "progressbar", "aria-valuemin": 0 }, fill);
  const label = h("span", { class: "wfkit-progress-label" });
  el.append(h("div", { class: "wfkit-progress" }, bar, label));

  function draw() {
    const view = model.get("progress_view") || {};
    const max = Math.max(view.max || 1, 1);
    const value = view.value || 0;
    fill.style.width = `${Math.min(100, (100 * value) / max)}%`;
    bar.dataset.style = view.style || "";
    bar.setAttribute("aria-valuemax", max);
    bar.setAttribute("aria-valuenow", value);
    label.textContent = view.text || "";
  }
  draw();
  model.on("change:progress_view", draw);
  return () => model.off("change:progress_view", draw);
}

export default { render };
