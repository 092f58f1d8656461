// Clock and events panel: virtual time and its pending timers, the buttons that move time,
// and a form to raise an event or pause, resume or terminate an instance. The Python side
// owns the controls' state (see controls.js) and sends the time and the timers (trait
// "clock_view"); this file draws them.

import { h } from "./dom.js";
import { Controls } from "./controls.js";
import { table } from "./table.js";

const TIMER_HEAD = ["fires at (virtual)", "", "instance", "guards"];

function drawTime(view) {
  const skip = view.auto_skip ? " · auto-skip on" : "";
  return [
    h("span", { class: "wfkit-now" }, view.now || ""),
    " ",
    h("span", { class: "wfkit-muted-text" }, `UTC, ${view.kind || "virtual"} time${skip}`),
    view.error ? h("div", { class: "wfkit-runtime-error" }, view.error) : null,
  ];
}

function drawTimers(view) {
  const timers = view.timers || [];
  if (!timers.length) return [h("div", { class: "wfkit-no-timers wfkit-muted-text" }, "no pending timers")];
  const rows = timers.map((t) => [t.fire_at, t.relative, h("code", {}, t.instance_id), t.guard]);
  const more = view.more ? h("div", { class: "wfkit-muted-text" }, `… and ${view.more.toLocaleString("en-US")} more`) : null;
  return [table("wfkit-timer-table", TIMER_HEAD, rows), more];
}

export function render({ model, el }) {
  const c = new Controls(model);
  const time = h("div", { class: "wfkit-clock-time" });
  const timers = h("div", { class: "wfkit-timers" });
  const root = h(
    "div",
    { class: "wfkit-clock-panel" },
    h("div", { class: "wfkit-heading" }, "Clock"),
    time,
    h(
      "div",
      { class: "wfkit-row" },
      c.button("next_button", "Next timer ▸", "wfkit-next-timer"),
      c.text("duration", "", "wfkit-duration", { placeholder: "90s, 15m, 2h, 7d", width: "90px" }),
      c.button("advance_button", "Advance by", "wfkit-advance"),
      c.text("target", "", "wfkit-target", { placeholder: "YYYY-MM-DD HH:MM:SS", width: "170px" }),
      c.button("advance_to_button", "Advance to", "wfkit-advance-to"),
      c.checkbox("auto_skip", "auto-skip", "wfkit-auto-skip"),
    ),
    timers,
    h("div", { class: "wfkit-heading" }, "Events and control"),
    h(
      "div",
      { class: "wfkit-row" },
      c.select("instance", "instance", "wfkit-event-instance", { width: "270px" }),
      c.button("pause_button", "Pause", "wfkit-pause"),
      c.button("resume_button", "Resume", "wfkit-resume"),
      c.button("terminate_button", "Terminate", "wfkit-terminate wfkit-danger"),
    ),
    h("div", { class: "wfkit-row" }, c.combobox("event_name", "event", "wfkit-event-name", { placeholder: "event name", width: "200px" })),
    h(
      "div",
      { class: "wfkit-row wfkit-top" },
      c.textarea("payload", "", "wfkit-event-payload", { placeholder: 'JSON payload, e.g. {"approved": true}' }),
      c.button("raise_button", "Raise event", "wfkit-raise-event"),
    ),
    c.html("payload_error", "wfkit-payload-error"),
    c.html("message", "wfkit-clock-message"),
  );
  el.append(root);

  function draw() {
    const view = model.get("clock_view") || {};
    time.replaceChildren(...drawTime(view).filter(Boolean));
    timers.replaceChildren(...drawTimers(view).filter(Boolean));
  }
  draw();
  model.on("change:clock_view", draw);
  const stop = c.follow();
  return () => {
    model.off("change:clock_view", draw);
    stop();
  };
}

export default { render };
