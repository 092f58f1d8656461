// Table helpers shared by the panels: a table from a header and rows of cells, and a JSON
// payload cell that shows a preview and expands to the whole value, pretty-printed.

import { h } from "./dom.js";

/** A <table class="wfkit-table ..."> with a header row and one row per list of cells
 * (strings, numbers, elements; null is an empty cell). */
export function table(cls, head, rows, { rowClass, empty } = {}) {
  const body = rows.map((cells) => h("tr", { class: rowClass }, cells.map((c) => h("td", {}, c ?? ""))));
  if (!rows.length && empty) body.push(h("tr", {}, h("td", { colspan: head.length, class: "wfkit-muted-text" }, empty)));
  return h("table", { class: `wfkit-table ${cls}` }, h("thead", {}, h("tr", {}, head.map((t) => h("th", {}, t)))), h("tbody", {}, body));
}

/** A payload: as code when short, else a preview that expands to the pretty JSON. */
export function payloadCell(text, preview = 60) {
  if (!text) return "";
  if (text.length <= preview) return h("code", {}, text);
  let pretty = text;
  try {
    pretty = JSON.stringify(JSON.parse(text), null, 2);
  } catch (e) {
    // not JSON: shown as it is
  }
  return h("details", { class: "wfkit-payload" }, h("summary", {}, h("code", {}, `${text.slice(0, preview)}…`)), h("pre", {}, pretty));
}

/** Text that does not wrap (times). */
export function nowrap(text) {
  return h("span", { class: "wfkit-nowrap" }, text);
}
