// The virtual viewer of the audience bench (bench/audience/virtual-viewer.ts) as one plain
// JavaScript file, dist/bench/virtual-viewer.mjs, so each viewer process starts with `node`
// alone: no TypeScript compiler at start, no hls.js to load. Beside it, dist/bench/stock-pml.mjs:
// stock PML for the pml-defaults mode (bench/audience/stock-pml.ts, PML bundled in).
//   - the SDK's engine build (sdk/dist/swarmcast-engine.mjs) stays an import: the viewer plays
//     through the SDK as published, never a copy of it;
//   - `@roamhq/wrtc` (a native module) and Node's own modules stay imports;
//   - hls.js is read here, at build time: the viewer needs only `Hls.DefaultConfig`'s numbers,
//     so the bundle gets them as data instead of loading the whole player in every process.
// The bench builds it itself (bench/audience/viewer-build.ts); `rollup -c bench/rollup.viewer.mjs` works too.
import { fileURLToPath } from "node:url";
import typescript from "@rollup/plugin-typescript";
import Hls from "hls.js";
import { nodePmlPlugins, onwarn } from "../rollup.config.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
export const VIEWER_BUNDLE = `${root}dist/bench/virtual-viewer.mjs`;
export const STOCK_PML_BUNDLE = `${root}dist/bench/stock-pml.mjs`;
const ENGINE_BUILD = `${root}sdk/dist/swarmcast-engine.mjs`;

/** hls.js's defaults as a module: `import Hls from "hls.js"` gives `{ DefaultConfig }`. */
const hlsDefaultsAsData = () => ({
  name: "hls-defaults-as-data",
  resolveId: (id) => (id === "hls.js" ? "\0hls-defaults" : null),
  load: (id) =>
    id === "\0hls-defaults"
      ? `export default { version: ${JSON.stringify(Hls.version)}, DefaultConfig: ${JSON.stringify(
          Object.fromEntries(
            Object.entries(Hls.DefaultConfig).filter(([, v]) => ["number", "boolean", "string"].includes(typeof v)),
          ),
        )} };`
      : null,
});

const viewer = {
  input: `${root}bench/audience/virtual-viewer.ts`,
  external: (id) => id.startsWith("node:") || id === "@roamhq/wrtc" || id === ENGINE_BUILD || id === STOCK_PML_BUNDLE,
  output: { file: VIEWER_BUNDLE, format: "es" },
  plugins: [
    hlsDefaultsAsData(),
    typescript({
      tsconfig: `${root}tsconfig.json`,
      include: [`${root}bench/audience/**/*.ts`],
      compilerOptions: { noEmit: false, declaration: false, sourceMap: false, outDir: undefined, types: ["node"] },
    }),
  ],
  onwarn,
};

const stockPml = {
  input: `${root}bench/audience/stock-pml.ts`,
  external: (id) => /^(node:|bufferutil|utf-8-validate)/.test(id),
  output: { file: STOCK_PML_BUNDLE, format: "es", inlineDynamicImports: true },
  plugins: nodePmlPlugins({
    tsconfig: `${root}tsconfig.json`,
    include: [`${root}bench/audience/**/*.ts`, `${root}sdk/src/**/*.ts`, `${root}shared/**/*.ts`],
    webRtcModule: "./bench/audience/stock-webrtc-globals.ts",
  }),
  onwarn,
};

export default [viewer, stockPml];
