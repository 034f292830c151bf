// The virtual viewer of the audience bench (bench/audience/virtual-viewer.ts) as one plain
// JavaScript file, dist/bench/virtual-viewer.mjs, so each viewer process starts with `node`
// alone: no TypeScript compiler at start, no hls.js to load.
//   - the SDK's engine build (sdk/dist/swarmcast-engine.mjs) stays an import: the viewer plays
//     through the SDK as published, never a copy of it;
//   - `@roamhq/wrtc` (a native module) and Node's own modules stay imports;
//   - hls.js is read here, at build time: the viewer needs only `Hls.DefaultConfig`'s numbers,
//     so the bundle gets them as data instead of loading the whole player in every process.
// The bench builds it itself (bench/audience/viewer-build.ts); `rollup -c bench/rollup.viewer.mjs` works too.
import { fileURLToPath } from "node:url";
import typescript from "@rollup/plugin-typescript";
import Hls from "hls.js";
import { onwarn } from "../rollup.config.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
export const VIEWER_BUNDLE = `${root}dist/bench/virtual-viewer.mjs`;
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

export default {
  input: `${root}bench/audience/virtual-viewer.ts`,
  external: (id) => id.startsWith("node:") || id === "@roamhq/wrtc" || id === ENGINE_BUILD,
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
