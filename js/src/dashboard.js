// The dashboard's own part (beside its plotly charts): a summary per workflow, the filters
// by workflow and status, and the instance list. The Python side filters and sends the rows
// (trait "board_view"); the filters are controls it owns (see controls.js).

import { h } from "./dom.js";
import { Controls } from "./controls.js";
import { nowrap, table } from "./table.js";

const SUMMARY_HEAD = ["workflow", "instances", "finished", "success rate", "median duration"];
const LIST_HEAD = ["instance", "workflow", "status", "created (virtual)", "duration"];

function status(name) {
  return h("span", { class: "wfkit-status-text", "data-status": name }, name);
}

function summaryRows(view) {
  return (view.summary || []).map((r) => [r.workflow, r.instances, r.finished, r.success_rate, r.median_duration]);
}

function listRows(view) {
  return (view.rows || []).map((r) => [h("code", {}, r.instance_id), r.workflow, status(r.status), nowrap(r.created), r.duration]);
}

export function render({ model, el }) {
  const c = new Controls(model);
  const summary = h("div", { class: "wfkit-dashboard-summary" });
  const count = h("div", { class: "wfkit-dashboard-count wfkit-muted-text" });
  const list = h("div", { class: "wfkit-dashboard-instances" });
  const root = h(
    "div",
    { class: "wfkit-dashboard-panel" },
    summary,
    h("div", { class: "wfkit-row" }, c.toggles("workflow", "workflow", "wfkit-dashboard-workflow")),
    h("div", { class: "wfkit-row" }, c.toggles("status", "status", "wfkit-dashboard-status")),
    count,
    list,
  );
  el.append(root);

  function draw() {
    const view = model.get("board_view") || {};
    summary.replaceChildren(table("wfkit-dashboard-workflows", SUMMARY_HEAD, summaryRows(view), { empty: "no instances" }));
    count.textContent = view.note || "";
    list.replaceChildren(table("wfkit-dashboard-list", LIST_HEAD, listRows(view), { rowClass: "wfkit-dashboard-row", empty: "no instances" }));
  }
  draw();
  model.on("change:board_view", draw);
  const stop = c.follow();
  return () => {
    model.off("change:board_view", draw);
    stop();
  };
}

export default { render };
