// Checks the shape of the rollup builds in sdk/dist/ and tracker/dist/ (`npm test` builds first).
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { describe, it } from "node:test";
import vm from "node:vm";
import { gzipSync } from "node:zlib";

const root = new URL("../../", import.meta.url);
const read = (path: string) => {
  const url = new URL(path, root);
  assert.ok(existsSync(url), `${path} is missing: run \`npm run build\``);
  return readFileSync(url, "utf8");
};
const pkg = JSON.parse(read("sdk/package.json"));
const trackerPkg = JSON.parse(read("tracker/package.json"));
const PUBLIC_API = [
  "attach",
  "attachAll",
  "createP2PEngine",
  "getPlayer",
  "isSupported",
  "isP2PSupported",
  "version",
  "DEFAULT_SWARMCAST_CONFIG",
  "SwarmcastOptionError",
  "Hls",
];

/** A PML patch of rollup.config.mjs as rollup calls its transform (a rollup error throws). */
async function pmlPatch(name: "patchPmlQueue" | "patchPmlHolderDraw"): Promise<(code: string, id: string) => unknown> {
  type Transform = (this: { error(message: string): never }, code: string, id: string) => unknown;
  const config = (await import(new URL("rollup.config.mjs", root).href)) as Record<
    typeof name,
    () => { transform: Transform }
  >;
  const plugin = config[name]();
  const context = {
    error(message: string): never {
      throw new Error(message);
    },
  };
  return (code, id) => plugin.transform.call(context, code, id);
}

describe("builds", () => {
  it("sdk/dist/swarmcast.js is a self-contained script defining the global Swarmcast", () => {
    const code = read("sdk/dist/swarmcast.js");
    assert.doesNotMatch(code, /^\s*import\s/m, "no ES import statements in the script build");
    // A bare global scope: anything the script needs at load time beyond these would break pages.
    const context: Record<string, unknown> = {
      console,
      setTimeout,
      clearTimeout,
      setInterval,
      clearInterval,
      queueMicrotask,
      URL,
      TextEncoder,
      TextDecoder,
      WebSocket: class {},
    };
    context.self = context.window = context.globalThis = context;
    vm.createContext(context);
    vm.runInContext(code, context);
    const api = context.Swarmcast as Record<string, unknown>;
    assert.ok(api, "global Swarmcast");
    for (const name of PUBLIC_API) assert.ok(name in api, `Swarmcast.${name}`);
    assert.equal(api.version, pkg.version);
    assert.equal(typeof (api.Hls as { isSupported?: unknown }).isSupported, "function", "hls.js is bundled");
  });

  it("sdk/dist/swarmcast.mjs imports only hls.js and bundles PML", () => {
    const code = read("sdk/dist/swarmcast.mjs");
    const specifiers = [...code.matchAll(/^(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]);
    assert.deepEqual([...new Set(specifiers)], ["hls.js"]);
    assert.doesNotMatch(code, /\bimport\(\s*['"]/, "no dynamic imports");
    assert.match(code, /class HlsJsP2PEngine/);
    for (const name of PUBLIC_API) assert.match(code, new RegExp(`\\b${name}\\b`), name);
  });

  it("PML's queue is patched in the SDK's builds, and the patch refuses a PML it does not recognise", async () => {
    // Patched: the urgent peer-to-HTTP switch asks keepUrgentPeerDownload first (rollup.config.mjs).
    const call = /!\s*[\w$]+\(\s*[\w$]+\s*,\s*[\w$]+\s*,\s*this\.playback\s*,\s*this\.segmentStorage\s*\)\s*&&/;
    // and each HTTP attempt at an urgent segment asks peerAfterHttpFailure, with the store (engine request, queue).
    const retry =
      /&&\s*!\s*[\w$]+\(\s*[\w$]+\s*,\s*[\w$]+\s*,\s*this\.p2pLoaders\.currentLoader\s*,\s*this\.segmentStorage\s*\)/g;
    // and a transfer it gives up goes to another holder when nextHolderAfterGivingUp says so.
    const asks = String.raw`[\w$]+\(\s*[\w$]+\s*,\s*this\.p2pLoaders\.currentLoader\s*,\s*this\.segmentStorage\s*\)`;
    const action = new RegExp(
      String.raw`abortFromProcessQueue\(\)[;,]\s*(?:if\s*\(\s*${asks}\s*\)\s*this\.loadThroughP2P\([\w$]+\);\s*else\s+|${asks}\s*\?\s*this\.loadThroughP2P\([\w$]+\)\s*:\s*)this\.loadThroughHttp\(`,
    );
    for (const file of ["sdk/dist/swarmcast.js", "sdk/dist/swarmcast.mjs", "sdk/dist/swarmcast-engine.mjs"]) {
      const code = read(file);
      assert.match(code, call, file);
      assert.match(code, action, `${file}: given-up transfer asking nextHolderAfterGivingUp`);
      assert.equal(code.match(retry)?.length, 2, `${file}: HTTP retries asking peerAfterHttpFailure`);
    }
    // The transform refuses a PML whose code no longer reads as expected.
    const transform = await pmlPatch("patchPmlQueue");
    const queueFile = "/x/node_modules/p2p-media-loader-core/lib/hybrid-loader.js";
    assert.throws(() => transform("const x = 1;", queueFile), /expected one urgent peer-to-HTTP switch .* found 0/);
    const switchOnly = 'if (canLoadThroughHttp && request.downloadSource === "p2p" && (a || b)) {}';
    assert.throws(() => transform(switchOnly, queueFile), /expected 2 HTTP retry tests .* found 0/);
    const retry2 = "(request?.failedAttempts.httpAttemptsCount ?? 0) < httpErrorRetries;";
    assert.throws(
      () => transform(switchOnly + retry2 + retry2, queueFile),
      /expected one switch from a given-up peer transfer to HTTP .* found 0/,
    );
    assert.equal(transform("const x = 1;", "/x/node_modules/other/index.js"), null);
  });

  it("PML's holder draw is patched in the SDK's builds, and the patch refuses a PML it does not recognise", async () => {
    // Patched: before PML draws a holder, the given-up ones are passed over (rollup.config.mjs); terser may inline the call.
    const call = /\(\s*[\w$]+\s*,\s*[\w$]+\s*,\s*this\.segmentStorage\s*\)/g;
    for (const file of ["sdk/dist/swarmcast.js", "sdk/dist/swarmcast.mjs", "sdk/dist/swarmcast-engine.mjs"]) {
      assert.equal(read(file).match(call)?.length, 1, `${file}: PML's draw asking passOverGivenUpHolders`);
    }
    const transform = await pmlPatch("patchPmlHolderDraw");
    const loaderFile = "/x/node_modules/p2p-media-loader-core/lib/p2p/loader.js";
    assert.throws(() => transform("const x = 1;", loaderFile), /expected one holder check .* found 0/);
    assert.equal(transform("const x = 1;", "/x/node_modules/other/index.js"), null);
  });

  it("sdk/dist/swarmcast.d.ts declares the public API", () => {
    const dts = read("sdk/dist/swarmcast.d.ts");
    for (const name of [
      "attach",
      "createP2PEngine",
      "SwarmcastOptions",
      "SwarmcastStats",
      "SwarmcastEventMap",
      "SwarmcastPlayer",
      "SwarmcastEngine",
    ]) {
      assert.match(dts, new RegExp(`\\b${name}\\b`), name);
    }
  });

  it("the script build stays within hls.js.min + 60 KB gzipped", (t) => {
    const ours = gzipSync(read("sdk/dist/swarmcast.js"), { level: 9 }).length;
    const hls = gzipSync(readFileSync(new URL("node_modules/hls.js/dist/hls.min.js", root)), { level: 9 }).length;
    t.diagnostic(
      `sdk/dist/swarmcast.js ${(ours / 1024).toFixed(1)} KB gz, hls.min.js ${(hls / 1024).toFixed(1)} KB gz, +${((ours - hls) / 1024).toFixed(1)} KB`,
    );
    assert.ok(ours <= hls + 60 * 1024, `${ours} B gz > ${hls} + 60 KB`);
  });

  it("sdk/dist/publish/cli.js (swarmcast-hash) needs nothing but Node", () => {
    const imported = importsOf(read("sdk/dist/publish/cli.js"));
    assert.ok(imported.length > 0);
    for (const id of imported) assert.ok(isBuiltin(id), `swarmcast-hash imports ${id}`);
  });

  it("tracker/dist imports only node builtins and the tracker package's dependencies", () => {
    const allowed = new Set(Object.keys(trackerPkg.dependencies).filter((name) => !name.startsWith("@types/")));
    const files = readdirSync(new URL("tracker/dist/", root), { recursive: true, encoding: "utf8" }).filter((f) =>
      f.endsWith(".js"),
    );
    assert.ok(
      files.includes("index.js") && files.includes("cli.js") && files.includes("token-cli.js"),
      files.join(" "),
    );
    for (const file of files) {
      for (const id of importsOf(read(`tracker/dist/${file}`))) {
        assert.ok(
          id.startsWith("./") || id.startsWith("../") || isBuiltin(id) || allowed.has(id),
          `tracker/dist/${file} imports ${id}`,
        );
      }
    }
    assert.match(read("tracker/dist/index.d.ts"), /\bstartTracker\b/);
  });
});

function importsOf(code: string): string[] {
  return [...code.matchAll(/^(?:import|export)\s(?:[^;]*?from\s+)?['"]([^'"]+)['"]/gm)].map((m) => m[1]);
}

function isBuiltin(id: string): boolean {
  return id.startsWith("node:") || builtinModules.includes(id);
}
