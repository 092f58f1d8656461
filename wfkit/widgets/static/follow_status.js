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

// src/follow_status.js
function render({ model, el }) {
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
        h("span", { class: "wfkit-muted-text" }, `(${view.at} UTC)`)
      )
    );
  }
  draw();
  model.on("change:follow_view", draw);
  return () => model.off("change:follow_view", draw);
}
var follow_status_default = { render };
export {
  follow_status_default as default,
  render
};
