// Builds of the two packages. shared/ is compiled into each; neither needs TypeScript at run time.
// swarmcast (sdk/):
//   sdk/dist/swarmcast.js          script-tag IIFE, global `Swarmcast`, hls.js and PML inside, minified
//   sdk/dist/swarmcast.mjs         ES module for bundlers: hls.js stays an import (peer dependency), PML inside
//   sdk/dist/swarmcast.d.ts        types of the module build
//   sdk/dist/swarmcast-engine.mjs  `swarmcast/engine`: the live P2P path for any player, no hls.js,
//                                  PML's Node build inside
//   sdk/dist/swarmcast-engine.d.ts types of the engine build
//   sdk/dist/publish/cli.js        the `swarmcast-hash` command (Node, no dependencies)
// swarmcast-tracker (tracker/):
//   tracker/dist/index.js, index.d.ts   the library entry (`startTracker`, tokens, options) and its types
//   tracker/dist/cli.js, token-cli.js   the `swarmcast-tracker` and `swarmcast-token` commands
import { readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import commonjs from "@rollup/plugin-commonjs";
import json from "@rollup/plugin-json";
import { nodeResolve } from "@rollup/plugin-node-resolve";
import replace from "@rollup/plugin-replace";
import terser from "@rollup/plugin-terser";
import typescript from "@rollup/plugin-typescript";
import dts from "rollup-plugin-dts";

const sdkPackage = JSON.parse(readFileSync(new URL("./sdk/package.json", import.meta.url), "utf8"));

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

const plugins = () => [
  patchPmlQueue(),
  patchPmlHolderDraw(),
  ...browserPlugins({
    tsconfig: "./sdk/tsconfig.build.json",
    include: ["sdk/src/**/*.ts", "shared/**/*.ts"],
    values: { __SWARMCAST_VERSION__: JSON.stringify(sdkPackage.version) },
  }),
];

/**
 * Two of the three changes this repository makes to PML 2.3.1 (sdk/README.md "Where PML is
 * patched"), both in its queue (`HybridLoader.processQueue`); the third is `patchPmlHolderDraw`:
 * - when a segment turns urgent while a peer is sending it, PML abandons the transfer for HTTP
 *   at once; patched, it first asks `keepUrgentPeerDownload` (sdk/src/peers/keep-peer-download.ts)
 *   whether the transfer will finish in time (with its segment store, by which the SDK tells how
 *   long this viewer's HTTP fallback takes);
 *   When that transfer is given up, PML starts the segment over HTTP; patched, it first asks
 *   `nextHolderAfterGivingUp` (sdk/src/peers/peer-after-http-failure.ts) whether another holder
 *   should have it instead (while this viewer's CDN is failing);
 * - after an HTTP attempt fails, PML retries HTTP until its retries are spent; patched, it asks
 *   `peerAfterHttpFailure` (same module) and takes the segment from a peer that holds it (the
 *   first attempt too while this viewer's CDN failed lately, told by the segment store).
 * Applied to the SDK's own builds only (the bench's stock-PML viewers stay stock), to PML's
 * browser bundle and to its ES build; the build fails if PML's code no longer reads as expected.
 */
const PML_QUEUE_FILES = /p2p-media-loader-core[\\/](dist[\\/]p2p-media-loader-core\.es\.js|lib[\\/]hybrid-loader\.js)$/;
const PML_SWITCH_TO_HTTP = /(canLoadThroughHttp\s*&&\s*request\.downloadSource\s*===\s*"p2p"\s*&&)(\s*\()/;
/** The HTTP-retry test of the engine's request and of each urgent segment in the queue. */
const PML_HTTP_RETRY = /\(request\?\.failedAttempts\.httpAttemptsCount\s*\?\?\s*0\)\s*<\s*httpErrorRetries/g;
const PML_HTTP_RETRIES_EXPECTED = 2;
/** What that switch does once it gave the peer's transfer up. */
const PML_SWITCH_ACTION = /(request\.abortFromProcessQueue\(\);\s*)this\.loadThroughHttp\(segment\);/g;
export const patchPmlQueue = () => ({
  name: "swarmcast-pml-queue-patch",
  transform(code, id) {
    if (!PML_QUEUE_FILES.test(id)) return null;
    const switches = code.match(new RegExp(PML_SWITCH_TO_HTTP, "g")) ?? [];
    if (switches.length !== 1) {
      this.error(`PML patch: expected one urgent peer-to-HTTP switch in ${id}, found ${switches.length}`);
    }
    const retries = code.match(PML_HTTP_RETRY) ?? [];
    if (retries.length !== PML_HTTP_RETRIES_EXPECTED) {
      this.error(`PML patch: expected ${PML_HTTP_RETRIES_EXPECTED} HTTP retry tests in ${id}, found ${retries.length}`);
    }
    const actions = code.match(PML_SWITCH_ACTION) ?? [];
    if (actions.length !== 1) {
      this.error(
        `PML patch: expected one switch from a given-up peer transfer to HTTP in ${id}, found ${actions.length}`,
      );
    }
    const hook = (file) => JSON.stringify(fileURLToPath(new URL(`./sdk/src/peers/${file}`, import.meta.url)));
    const patched = code
      .replace(
        PML_SWITCH_TO_HTTP,
        "$1 !__swarmcastKeepUrgentPeerDownload(request, segment, this.playback, this.segmentStorage) &&$2",
      )
      .replace(
        PML_SWITCH_ACTION,
        "$1if (__swarmcastNextHolderAfterGivingUp(segment, this.p2pLoaders.currentLoader, this.segmentStorage)) this.loadThroughP2P(segment); else this.loadThroughHttp(segment);",
      )
      .replace(
        PML_HTTP_RETRY,
        "$& && !__swarmcastPeerAfterHttpFailure(request, segment, this.p2pLoaders.currentLoader, this.segmentStorage)",
      );
    return {
      code:
        `import { keepUrgentPeerDownload as __swarmcastKeepUrgentPeerDownload } from ${hook("keep-peer-download.ts")};\n` +
        `import { peerAfterHttpFailure as __swarmcastPeerAfterHttpFailure, nextHolderAfterGivingUp as __swarmcastNextHolderAfterGivingUp } from ${hook("peer-after-http-failure.ts")};\n` +
        patched,
      map: null,
    };
  },
});

/**
 * The third change to PML 2.3.1 (sdk/README.md "Where PML is patched"), in its peer loader
 * (`P2PLoader.downloadSegment`): before PML draws a holder for a segment, it hands the holders it
 * found to `passOverGivenUpHolders` (sdk/src/peers/given-up-holders.ts) with its segment store,
 * which drops, in place, those whose attempt at the segment just failed or was given up while
 * another is left. Applied where `patchPmlQueue` is; the build fails if PML's code no longer
 * reads as expected.
 */
const PML_PEER_LOADER_FILES =
  /p2p-media-loader-core[\\/](dist[\\/]p2p-media-loader-core\.es\.js|lib[\\/]p2p[\\/]loader\.js)$/;
const PML_NO_HOLDER = /if\s*\(peersWithSegment\.length\s*===\s*0\)\s*return;/g;
export const patchPmlHolderDraw = () => ({
  name: "swarmcast-pml-holder-draw-patch",
  transform(code, id) {
    if (!PML_PEER_LOADER_FILES.test(id)) return null;
    const found = code.match(PML_NO_HOLDER) ?? [];
    if (found.length !== 1) {
      this.error(`PML patch: expected one holder check in ${id}'s downloadSegment, found ${found.length}`);
    }
    const hook = JSON.stringify(fileURLToPath(new URL("./sdk/src/peers/given-up-holders.ts", import.meta.url)));
    return {
      code:
        `import { passOverGivenUpHolders as __swarmcastPassOverGivenUpHolders } from ${hook};\n` +
        code.replace(
          PML_NO_HOLDER,
          (check) => `__swarmcastPassOverGivenUpHolders(peersWithSegment, segment, this.segmentStorage);\n${check}`,
        ),
      map: null,
    };
  },
});

export const onwarn = (warning, warn) => {
  // PML and hls.js use `this` at module top level in helpers; harmless in ESM.
  if (warning.code === "THIS_IS_UNDEFINED") return;
  // PML's engine and its static mixin import each other; the cycle is resolved at call time.
  if (warning.code === "CIRCULAR_DEPENDENCY" && warning.ids?.every((id) => id.includes("node_modules"))) return;
  warn(warning);
};

/**
 * PML's WebRTC client imports `webrtc-polyfill`; in a Node build it gets the runtime's globals
 * through `module` (the SDK's: its connection guard around the global class).
 */
const webRtcFromGlobals = (module = "./sdk/src/engine/webrtc-globals.ts") => ({
  name: "webrtc-from-globals",
  resolveId: (id) => (id === "webrtc-polyfill" ? fileURLToPath(new URL(module, import.meta.url)) : null),
});

/**
 * Plugins for a Node build with PML inside (PML's ES build re-exports names of a CommonJS module,
 * debug, that Node cannot import by name): TS sources under `include`, WebRTC from `webRtcModule`.
 */
export const nodePmlPlugins = ({ include, webRtcModule, tsconfig = "./tsconfig.json", values = {} }) => [
  replace({ preventAssignment: true, values }),
  webRtcFromGlobals(webRtcModule),
  // bittorrent-tracker's client asks Node callers for a TCP port it only uses with HTTP/UDP
  // trackers; PML announces to WebSocket trackers only, as in the browser.
  replace({
    preventAssignment: true,
    include: /bittorrent-tracker[\\/]client\.js$/,
    values: { "process.browser": "true" },
  }),
  // PML calls the browser's timers and fetch through `window`; Node has them on globalThis.
  replace({
    preventAssignment: true,
    include: /p2p-media-loader-core/,
    values: { "window.setTimeout": "globalThis.setTimeout", "window.fetch": "globalThis.fetch" },
  }),
  nodeResolve({
    preferBuiltins: true,
    exportConditions: ["node", "import", "default"],
    extensions: [".ts", ".mjs", ".js", ".json"],
  }),
  commonjs({ ignoreTryCatch: true }),
  json(),
  typescript({
    tsconfig,
    include,
    compilerOptions: { noEmit: false, declaration: false, sourceMap: true, outDir: undefined, types: [] },
  }),
];

/** Node code: every bare import (a dependency or node:*) stays an import. */
const nodeExternal = (id) => !id.startsWith(".") && !id.startsWith("/") && !id.startsWith("\0");

const nodePlugins = (tsconfig, include) => [
  typescript({
    tsconfig,
    include,
    compilerOptions: { noEmit: false, declaration: false, sourceMap: true, outDir: undefined, types: ["node"] },
  }),
];

const builds = [
  {
    input: "sdk/src/iife.ts",
    output: {
      file: "sdk/dist/swarmcast.js",
      format: "iife",
      name: "Swarmcast",
      exports: "named",
      sourcemap: true,
      banner: `/*! swarmcast ${sdkPackage.version} | MIT | includes hls.js (Apache-2.0) and p2p-media-loader (Apache-2.0) */`,
      plugins: [terser({ format: { comments: /^!/ } })],
    },
    plugins: plugins(),
    onwarn,
  },
  {
    input: "sdk/src/index.ts",
    external: (id) => id === "hls.js" || id.startsWith("hls.js/"),
    output: {
      file: "sdk/dist/swarmcast.mjs",
      format: "es",
      sourcemap: true,
    },
    plugins: plugins(),
    onwarn,
  },
  {
    input: "sdk/src/index.ts",
    external: (id) => /^(hls\.js|p2p-media-loader-)/.test(id),
    output: { file: "sdk/dist/swarmcast.d.ts", format: "es" },
    plugins: [dts({ tsconfig: "./sdk/tsconfig.build.json" })],
  },
  {
    input: { cli: "sdk/publish/cli.ts" },
    external: nodeExternal,
    output: { dir: "sdk/dist/publish", format: "es", sourcemap: true },
    plugins: nodePlugins("./sdk/publish/tsconfig.build.json", ["sdk/publish/**/*.ts", "shared/**/*.ts"]),
    onwarn,
  },
  {
    input: { index: "tracker/src/index.ts", cli: "tracker/src/cli.ts", "token-cli": "tracker/src/token-cli.ts" },
    external: nodeExternal,
    output: { dir: "tracker/dist", format: "es", sourcemap: true, chunkFileNames: "chunks/[name].js" },
    plugins: nodePlugins("./tracker/tsconfig.build.json", ["tracker/src/**/*.ts", "shared/**/*.ts"]),
    onwarn,
  },
  {
    input: "tracker/src/index.ts",
    external: nodeExternal,
    output: { file: "tracker/dist/index.d.ts", format: "es" },
    plugins: [dts({ tsconfig: "./tracker/tsconfig.build.json" })],
  },
  {
    input: "sdk/src/engine-entry.ts",
    // PML's ES build re-exports names of a CommonJS module (debug) that Node cannot import by
    // name, so PML and its dependencies are bundled, Node's own modules and ws's optional
    // native helpers stay imports.
    external: (id) => /^(hls\.js|node:|bufferutil|utf-8-validate)/.test(id),
    output: { file: "sdk/dist/swarmcast-engine.mjs", format: "es", sourcemap: true, inlineDynamicImports: true },
    plugins: [
      patchPmlQueue(),
      patchPmlHolderDraw(),
      ...nodePmlPlugins({
        include: ["sdk/src/**/*.ts", "shared/**/*.ts"],
        values: { __SWARMCAST_VERSION__: JSON.stringify(sdkPackage.version) },
      }),
    ],
    onwarn,
  },
  {
    input: "sdk/src/engine-entry.ts",
    external: (id) => /^(hls\.js|p2p-media-loader-)/.test(id),
    output: { file: "sdk/dist/swarmcast-engine.d.ts", format: "es" },
    plugins: [dts({ tsconfig: "./sdk/tsconfig.build.json" })],
  },
];

/**
 * `rollup -c` builds both packages, `rollup -c --configPackage tracker` (or `sdk`) one of them.
 * Each package's dist/ is emptied first, so no file of an older build is packed.
 */
export default (args) => {
  const only = args.configPackage;
  delete args.configPackage;
  const dirs = only === undefined ? ["sdk/", "tracker/"] : [{ sdk: "sdk/", tracker: "tracker/" }[only]];
  if (!dirs[0]) throw new Error(`--configPackage: expected sdk or tracker, got "${only}"`);
  for (const dir of dirs) rmSync(new URL(`./${dir}dist`, import.meta.url), { recursive: true, force: true });
  const firstInput = (build) => (typeof build.input === "string" ? build.input : Object.values(build.input)[0]);
  return builds.filter((build) => dirs.some((dir) => firstInput(build).startsWith(dir)));
};
