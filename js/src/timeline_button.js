// The button of watch() that draws the instance's timeline below it (see controls.js).

import { h } from "./dom.js";
import { Controls } from "./controls.js";

export function render({ model, el }) {
  const c = new Controls(model);
  el.append(h("div", { class: "wfkit-watch-bar" }, h("div", { class: "wfkit-row" }, c.button("timeline_button", "Show timeline", "wfkit-show-timeline"), c.html("message", "wfkit-watch-message"))));
  return c.follow();
}

export default { render };
