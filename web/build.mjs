// Build the console into web/dist/ (committed, so Python users need no npm):
//   dist/index.html                 the page (dist/cockpit.html: the cockpit, 驾驶舱)
//   dist/assets/console.js, .css    our code, bundled and minified by esbuild
//   dist/assets/vendor/             MapLibre GL JS (its minified build, CSS and licence)
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

// Bundle in memory first: a failed build leaves the previous dist/ in place.
const js = await build({
  entryPoints: [join(here, "src", "main.js")],
  outfile: join(assets, "console.js"),
  bundle: true,
  minify: true,
  format: "iife",
  target: ["chrome100", "firefox100", "safari15"],
  legalComments: "none",
  write: false,
  logLevel: "warning",
});
const css = await build({
  entryPoints: [join(here, "src", "console.css")],
  outfile: join(assets, "console.css"),
  bundle: true,
  minify: true,
  write: false,
  logLevel: "warning",
});

// The cockpit (驾驶舱, issue 11): its own page, script and style beside the console's.
const cockpit = await build({
  entryPoints: {
    cockpit: join(here, "src", "cockpit.js"),
    "cockpit-style": join(here, "src", "cockpit.css"),
  },
  outdir: assets,
  entryNames: "[name]",
  bundle: true,
  minify: true,
  format: "iife",
  target: ["chrome100", "firefox100", "safari15"],
  legalComments: "none",
  write: false,
  logLevel: "warning",
});

rmSync(dist, { recursive: true, force: true });
mkdirSync(vendor, { recursive: true });
for (const file of [...js.outputFiles, ...css.outputFiles]) writeFileSync(file.path, file.contents);
for (const file of cockpit.outputFiles) {
  writeFileSync(file.path.replace("cockpit-style.css", "cockpit.css"), file.contents);
}

for (const name of ["maplibre-gl.js", "maplibre-gl.css", "LICENSE.txt"]) {
  const target = name === "LICENSE.txt" ? "maplibre-gl.LICENSE.txt" : name;
  copyFileSync(join(maplibre, "dist", name), join(vendor, target));
}
const version = JSON.parse(readFileSync(join(maplibre, "package.json"), "utf8")).version;
// Drop a source-map comment, if any: the map file is not shipped.
const lib = join(vendor, "maplibre-gl.js");
writeFileSync(lib, readFileSync(lib, "utf8").replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n"));

copyFileSync(join(here, "src", "index.html"), join(dist, "index.html"));
copyFileSync(join(here, "src", "cockpit.html"), join(dist, "cockpit.html"));
writeFileSync(
  join(dist, "BUILD.txt"),
  `Built by web/build.mjs from web/src and npm packages (web/package-lock.json).\n` +
    `maplibre-gl ${version} (BSD-3-Clause, assets/vendor/maplibre-gl.LICENSE.txt)\n`,
);
console.log(`console built into ${dist} (maplibre-gl ${version})`);
