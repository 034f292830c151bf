// Builds of the browser SDK (sdk/src):
//   dist/swarmcast.js   script-tag IIFE, global `Swarmcast`, hls.js and PML inside, minified
//   dist/swarmcast.mjs  ES module for bundlers: hls.js stays an import (peer dependency), PML inside
//   dist/swarmcast.d.ts types of the module build
import { readFileSync } from "node:fs";
import commonjs from "@rollup/plugin-commonjs";
import { nodeResolve } from "@rollup/plugin-node-resolve";
import replace from "@rollup/plugin-replace";
import terser from "@rollup/plugin-terser";
import typescript from "@rollup/plugin-typescript";
import dts from "rollup-plugin-dts";

const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"));

/**
 * Plugins for any browser bundle of this repository (the SDK's builds, the bench pages): TS
 * sources under `include`, PML resolved to its browser bundle, no `process` left behind.
 */
export const browserPlugins = ({ include, tsconfig = "./tsconfig.json", sourceMap = true, values = {} }) => [
  replace({
    preventAssignment: true,
    values: {
      // PML's debug logger reads these; the browser has no process.
      "process.env.NODE_ENV": JSON.stringify("production"),
      ...values,
    },
  }),
  nodeResolve({
    browser: true,
    // PML ships a browser bundle under this condition; its plain entry pulls Node's `events`.
    exportConditions: ["p2pml:core-as-bundle", "browser", "import", "default"],
    extensions: [".ts", ".mjs", ".js", ".json"],
  }),
  commonjs(),
  typescript({
    tsconfig,
    include,
    compilerOptions: {
      noEmit: false,
      declaration: false,
      sourceMap,
      outDir: undefined,
      types: [],
    },
  }),
];

const plugins = () =>
  browserPlugins({
    include: ["sdk/src/**/*.ts", "shared/**/*.ts"],
    values: { __SWARMCAST_VERSION__: JSON.stringify(pkg.version) },
  });

export const onwarn = (warning, warn) => {
  // PML and hls.js use `this` at module top level in helpers; harmless in ESM.
  if (warning.code === "THIS_IS_UNDEFINED") return;
  // PML's engine and its static mixin import each other; the cycle is resolved at call time.
  if (warning.code === "CIRCULAR_DEPENDENCY" && warning.ids?.every((id) => id.includes("node_modules"))) return;
  warn(warning);
};

export default [
  {
    input: "sdk/src/iife.ts",
    output: {
      file: "dist/swarmcast.js",
      format: "iife",
      name: "Swarmcast",
      exports: "named",
      sourcemap: true,
      banner: `/*! swarmcast ${pkg.version} | MIT | includes hls.js (Apache-2.0) and p2p-media-loader (Apache-2.0) */`,
      plugins: [terser({ format: { comments: /^!/ } })],
    },
    plugins: plugins(),
    onwarn,
  },
  {
    input: "sdk/src/index.ts",
    external: (id) => id === "hls.js" || id.startsWith("hls.js/"),
    output: {
      file: "dist/swarmcast.mjs",
      format: "es",
      sourcemap: true,
    },
    plugins: plugins(),
    onwarn,
  },
  {
    input: "sdk/src/index.ts",
    external: (id) => /^(hls\.js|p2p-media-loader-)/.test(id),
    output: { file: "dist/swarmcast.d.ts", format: "es" },
    plugins: [dts({ tsconfig: "./tsconfig.json", compilerOptions: { types: [] } })],
  },
];
