// History table: history events a page at a time, with filters. The Python side runs the
// page's query and sends its rows (trait "page_view"); this file draws the filters, the
// rows and the pager.

import { h } from "./dom.js";
import { Controls } from "./controls.js";
import { nowrap, payloadCell, table } from "./table.js";

const HEAD = ["#", "kind", "name", "task", "virtual time", "wall time (UTC)", "payload"];

function cells(row, showInstance) {
  const out = [row.seq, row.kind, row.name, row.task_id, nowrap(row.timestamp), nowrap(row.wall_time), payloadCell(row.payload)];
  if (showInstance) out.unshift(h("code", {}, row.instance_id));
  return out;
}

function pageText(view) {
  const n = (x) => Number(x || 0).toLocaleString("en-US");
  const rows = view.rows || [];
  const first = rows.length ? view.page * view.size + 1 : 0;
  const last = view.page * view.size + rows.length;
  return `rows ${n(first)}–${n(last)} of ${n(view.total)} · page ${n(view.page + 1)} of ${n(view.pages)}`;
}

export function render({ model, el }) {
  const c = new Controls(model);
  const rows = h("div", { class: "wfkit-history-table" });
  const label = h("span", { class: "wfkit-history-page-text" });
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
    rows,
    h("div", { class: "wfkit-row" }, c.button("prev_button", "◂ Prev", "wfkit-history-prev"), h("div", { class: "wfkit-history-page" }, label), c.button("next_button", "Next ▸", "wfkit-history-next")),
  );
  el.append(root);

  function draw() {
    const view = model.get("page_view") || {};
    const head = view.show_instance ? ["instance", ...HEAD] : HEAD;
    const body = (view.rows || []).map((row) => cells(row, view.show_instance));
    rows.replaceChildren(table("wfkit-history", head, body, { rowClass: "wfkit-history-row", empty: "no events" }));
    label.textContent = pageText(view);
  }
  draw();
  model.on("change:page_view", draw);
  const stop = c.follow();
  return () => {
    model.off("change:page_view", draw);
    stop();
  };
}

export default { render };
