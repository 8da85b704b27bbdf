// Build the console pages into web/dist/ (committed, so Python users need no npm):
//   dist/<page>.html (index.html: the dispatcher console)   each page of PAGES below
//   dist/assets/<page>.js, <page>.css                       our code, bundled and minified
//   dist/assets/vendor/                                     MapLibre GL JS (build, CSS, licence)
// A new page is one entry in PAGES (its own script, styles and HTML, sharing src/ modules).
// Run: cd web && npm ci && npm run build
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
const assets = join(dist, "assets");
const vendor = join(assets, "vendor");
const maplibre = join(here, "node_modules", "maplibre-gl");

/** name -> [script entry, stylesheet entry, page HTML] (paths under src/). */
const PAGES = {
  console: ["main.js", "console.css", "index.html"], // the dispatcher console (/console/)
  field: ["field/main.js", "field/field.css", "field.html"], // field force (/console/field/)
  planner: ["planner/main.js", "planner/planner.css", "planner.html"], // 网格规划
  cockpit: ["cockpit.js", "cockpit.css", "cockpit.html"], // 驾驶舱 (/console/cockpit.html)
};

async function bundle(entry, outfile, options) {
  const result = await build({
    entryPoints: [join(here, "src", entry)],
    outfile: join(assets, outfile),
    bundle: true,
    minify: true,
    write: false,
    logLevel: "warning",
    ...options,
  });
  return result.outputFiles;
}

// Bundle in memory first: a failed build leaves the previous dist/ in place.
const outputs = [];
for (const [name, [script, style]] of Object.entries(PAGES)) {
  outputs.push(
    ...(await bundle(script, `${name}.js`, {
      format: "iife",
      target: ["chrome100", "firefox100", "safari15"],
      legalComments: "none",
    })),
    ...(await bundle(style, `${name}.css`, {})),
  );
}

rmSync(dist, { recursive: true, force: true });
mkdirSync(vendor, { recursive: true });
for (const file of outputs) writeFileSync(file.path, file.contents);

for (const name of ["maplibre-gl.js", "maplibre-gl.css", "LICENSE.txt"]) {
  const target = name === "LICENSE.txt" ? "maplibre-gl.LICENSE.txt" : name;
  copyFileSync(join(maplibre, "dist", name), join(vendor, target));
}
const version = JSON.parse(readFileSync(join(maplibre, "package.json"), "utf8")).version;
// Drop a source-map comment, if any: the map file is not shipped.
const lib = join(vendor, "maplibre-gl.js");
writeFileSync(lib, readFileSync(lib, "utf8").replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n"));

for (const [, , html] of Object.values(PAGES)) copyFileSync(join(here, "src", html), join(dist, html));
writeFileSync(
  join(dist, "BUILD.txt"),
  `Built by web/build.mjs from web/src and npm packages (web/package-lock.json).\n` +
    `maplibre-gl ${version} (BSD-3-Clause, assets/vendor/maplibre-gl.LICENSE.txt)\n`,
);
console.log(`console built into ${dist} (maplibre-gl ${version})`);
