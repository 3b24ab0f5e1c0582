// Bundles the front end into ../pbrain_widgets/static/ (widget.js + widget.css), minified.
import { build } from "esbuild";

await build({
  entryPoints: { widget: "src/index.ts" },
  outdir: "../pbrain_widgets/static",
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2020",
  jsx: "automatic",
  jsxImportSource: "preact",
  loader: { ".css": "css" },
  legalComments: "none",
  logLevel: "info",
});
