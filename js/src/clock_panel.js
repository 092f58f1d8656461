// Clock and events panel: virtual time and its pending timers, the buttons that move time,
// and a form to raise an event or pause, resume or terminate an instance. The Python side
// owns the state (see controls.js) and writes the time, the timers and the messages.

import { h } from "./dom.js";
import { Controls } from "./controls.js";

export function render({ model, el }) {
  const c = new Controls(model);
  const root = h(
    "div",
    { class: "wfkit-clock-panel" },
    h("div", { class: "wfkit-heading" }, "Clock"),
    c.html("time_label", "wfkit-clock-time"),
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
    c.html("timers", "wfkit-timers"),
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
  return c.follow();
}

export default { render };
