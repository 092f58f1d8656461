// Builds the widgets' bundles from src/: one ES module and one stylesheet per widget,
// each with the shared modules it imports, written where the Python package loads them
// (anywidget loads a single ES module, so the bundles carry their imports).
//
//   node build.mjs              rebuild the committed bundles
//   node build.mjs --out DIR    write them under DIR instead (the freshness test)

import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.dirname(HERE);

// source in src/ -> bundle, relative to the repository (its extension follows the source's)
export const BUNDLES = {
  "graph.js": "wfkit/widgets/static/graph",
  "graph.css": "wfkit/widgets/static/graph",
  "clock_panel.js": "wfkit/widgets/static/clock_panel",
  "clock_panel.css": "wfkit/widgets/static/clock_panel",
  "history_table.js": "wfkit/widgets/static/history_table",
  "history_table.css": "wfkit/widgets/static/history_table",
  "dashboard.js": "wfkit/widgets/static/dashboard",
  "dashboard.css": "wfkit/widgets/static/dashboard",
  "progress.js": "wfkit/widgets/static/progress",
  "progress.css": "wfkit/widgets/static/progress",
  "follow_status.js": "wfkit/widgets/static/follow_status",
  "follow_status.css": "wfkit/widgets/static/follow_status",
  "timeline_button.js": "wfkit/widgets/static/timeline_button",
  "timeline_button.css": "wfkit/widgets/static/timeline_button",
  "theme.css": "wfkit/widgets/static/theme",
  "player.js": "wfkit/timetravel/static/player",
  "player.css": "wfkit/timetravel/static/player",
};

function outDir(argv) {
  const at = argv.indexOf("--out");
  return at >= 0 ? path.resolve(argv[at + 1]) : REPO;
}

await esbuild.build({
  absWorkingDir: HERE,
  entryPoints: Object.entries(BUNDLES).map(([source, out]) => ({ in: `src/${source}`, out })),
  outdir: outDir(process.argv),
  bundle: true,
  format: "esm",
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  charset: "utf8",
  legalComments: "none",
  logLevel: "warning",
});
