// Pages of the offload bench (bench/pages), built into dist/bench/:
//   viewer.js    the in-page probe every bench viewer runs (global benchViewer)
//   pml-page.js  hls.js + p2p-media-loader 2.3.1 for the pml-defaults mode (global BenchPml)
// The bench builds them itself (bench/offload/pages.ts); `rollup -c bench/rollup.bench.mjs` works too.
import commonjs from "@rollup/plugin-commonjs";
import { nodeResolve } from "@rollup/plugin-node-resolve";
import replace from "@rollup/plugin-replace";
import typescript from "@rollup/plugin-typescript";
import { fileURLToPath } from "node:url";

// Absolute paths: the bench builds these pages from any working directory.
const root = fileURLToPath(new URL("..", import.meta.url));

const plugins = () => [
  replace({
    preventAssignment: true,
    values: { "process.env.NODE_ENV": JSON.stringify("production") },
  }),
  nodeResolve({
    browser: true,
    // PML's browser bundle; its plain entry pulls Node's `events`.
    exportConditions: ["p2pml:core-as-bundle", "browser", "import", "default"],
    extensions: [".ts", ".mjs", ".js", ".json"],
  }),
  commonjs(),
  typescript({
    tsconfig: `${root}tsconfig.json`,
    include: [`${root}bench/pages/**/*.ts`],
    compilerOptions: { noEmit: false, declaration: false, sourceMap: false, outDir: undefined, types: [] },
  }),
];

const onwarn = (warning, warn) => {
  if (warning.code === "THIS_IS_UNDEFINED") return;
  // PML's engine and its static mixin import each other; harmless.
  if (warning.code === "CIRCULAR_DEPENDENCY" && warning.ids?.every((id) => id.includes("node_modules"))) return;
  warn(warning);
};

export default [
  {
    input: `${root}bench/pages/viewer.ts`,
    output: { file: `${root}dist/bench/viewer.js`, format: "iife" },
    plugins: plugins(),
    onwarn,
  },
  {
    input: `${root}bench/pages/pml-page.ts`,
    output: { file: `${root}dist/bench/pml-page.js`, format: "iife", name: "BenchPml", exports: "named" },
    plugins: plugins(),
    onwarn,
  },
];
