// Pages of the offload bench (bench/pages), built into dist/bench/:
//   viewer.js    the in-page probe every bench viewer runs (global benchViewer)
//   pml-page.js  hls.js + p2p-media-loader 2.3.1 for the pml-defaults mode (global BenchPml)
// The bench builds them itself (bench/offload/pages.ts); `rollup -c bench/rollup.bench.mjs` works too.
import { fileURLToPath } from "node:url";
import { browserPlugins, onwarn } from "../rollup.config.mjs";

// Absolute paths: the bench builds these pages from any working directory. The pages may
// import small pieces of the SDK's source (sdk/src), so that is compiled too.
const root = fileURLToPath(new URL("..", import.meta.url));

const plugins = () =>
  browserPlugins({
    tsconfig: `${root}tsconfig.json`,
    include: [`${root}bench/pages/**/*.ts`, `${root}sdk/src/**/*.ts`],
    sourceMap: false,
  });

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
