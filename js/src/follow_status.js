// How an instance of a remote engine is read: polling, or why it stopped. The Python side
// sends the state (trait "follow_view": state, message, at); this file draws one line.

import { h } from "./dom.js";

export function render({ model, el }) {
  const line = h("div", { class: "wfkit-follow-status" });
  el.append(line);

  function draw() {
    const view = model.get("follow_view") || {};
    if (!view.state) return line.replaceChildren();
    line.replaceChildren(
      h(
        "span",
        { class: `wfkit-follow-${view.state}`, "data-state": view.state },
        h("b", {}, view.state),
        ` · ${view.message || ""} `,
        h("span", { class: "wfkit-muted-text" }, `(${view.at} UTC)`),
      ),
    );
  }
  draw();
  model.on("change:follow_view", draw);
  return () => model.off("change:follow_view", draw);
}

export default { render };
