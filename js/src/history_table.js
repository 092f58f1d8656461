// History table: history events a page at a time, with filters. The Python side runs the
// page's query and writes the table; this file draws the filters and the pager.

import { h } from "./dom.js";
import { Controls } from "./controls.js";

export function render({ model, el }) {
  const c = new Controls(model);
  const root = h(
    "div",
    { class: "wfkit-history-panel" },
    h("div", { class: "wfkit-heading" }, "History"),
    h(
      "div",
      { class: "wfkit-row" },
      c.combobox("instance", "instance", "wfkit-history-instance", { placeholder: "(all)", width: "220px" }),
      c.select("kind", "kind", "wfkit-history-kind", { width: "190px" }),
      c.text("name", "name", "wfkit-history-name", { placeholder: "name contains", width: "150px" }),
      c.select("page_size", "rows", "wfkit-history-rows", { width: "70px" }),
    ),
    c.html("table", "wfkit-history-table"),
    h(
      "div",
      { class: "wfkit-row" },
      c.button("prev_button", "◂ Prev", "wfkit-history-prev"),
      c.html("page_label", "wfkit-history-page"),
      c.button("next_button", "Next ▸", "wfkit-history-next"),
    ),
  );
  el.append(root);
  return c.follow();
}

export default { render };
