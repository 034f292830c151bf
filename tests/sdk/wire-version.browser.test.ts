// Mixed SDK versions in one swarm: a second script-tag build of the SDK, identical but for
// WIRE_VERSION (shared/protocol.ts), plays next to two viewers of the normal build with the
// same swarmId and tracker. The two of the same version share segments; the other one is never
// introduced to them and plays from the CDN alone.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import commonjs from "@rollup/plugin-commonjs";
import { nodeResolve } from "@rollup/plugin-node-resolve";
import replace from "@rollup/plugin-replace";
import { rollup, type Plugin } from "rollup";
import { WIRE_VERSION } from "../../shared/protocol";
import { useStage } from "../../devkit/stage";
import { transpile } from "./rollup-transpile";
import { waitFor } from "../../devkit/wait";
import { openViewer, type Viewer } from "./viewer";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const OTHER_WIRE = WIRE_VERSION + 1;
const OTHER_DIR = join(ROOT, "tests/output/wire-version");
const sdkVersion: string = JSON.parse(readFileSync(join(ROOT, "sdk/package.json"), "utf8")).version;

/** Sets WIRE_VERSION in shared/protocol.ts, and fails the build if that line is not there. */
function wireVersion(value: number): Plugin {
  return {
    name: "wire-version",
    transform(code, id) {
      if (!id.endsWith("/shared/protocol.ts")) return null;
      const pattern = /^export const WIRE_VERSION = \d+;$/m;
      if (!pattern.test(code)) this.error("WIRE_VERSION declaration not found");
      return code.replace(pattern, `export const WIRE_VERSION = ${value};`);
    },
  };
}

/** The script-tag build (sdk/src/iife.ts) with another wire version, plus a copy of the player page loading it. */
async function buildOtherWireVersion(): Promise<void> {
  const bundle = await rollup({
    input: join(ROOT, "sdk/src/iife.ts"),
    plugins: [
      wireVersion(OTHER_WIRE),
      replace({
        preventAssignment: true,
        values: {
          "process.env.NODE_ENV": JSON.stringify("production"),
          __SWARMCAST_VERSION__: JSON.stringify(sdkVersion),
        },
      }),
      nodeResolve({
        browser: true,
        exportConditions: ["p2pml:core-as-bundle", "browser", "import", "default"],
        extensions: [".ts", ".mjs", ".js", ".json"],
      }),
      commonjs(),
      transpile,
    ],
    onwarn: () => undefined,
  });
  mkdirSync(OTHER_DIR, { recursive: true });
  await bundle.write({ file: join(OTHER_DIR, "swarmcast.js"), format: "iife", name: "Swarmcast", exports: "named" });
  await bundle.close();
  const page = readFileSync(join(ROOT, "tests/browser-pages/player.html"), "utf8");
  const loading = '<script src="/dist/swarmcast.js"></script>';
  assert.ok(page.includes(loading));
  writeFileSync(join(OTHER_DIR, "player.html"), page.replace(loading, '<script src="swarmcast.js"></script>'));
}

before(buildOtherWireVersion);
// openViewer loads <base>/pages/player.html: with base /other-wire, the copy next to the other build.
const stage = useStage({ routes: { "/other-wire/pages/": "tests/output/wire-version" } });

describe("wire versions", () => {
  it("same-version viewers share segments; a viewer of another wire version never meets them", async () => {
    const swarm = "one-swarm-id";
    const viewers: Viewer[] = [];
    try {
      for (const id of ["same1", "same2"]) {
        viewers.push(
          await openViewer(stage.browser, stage.pages.url, id, {
            src: stage.origin.liveUrl(id),
            tracker: stage.tracker.url,
            swarm,
          }),
        );
      }
      const other = await openViewer(stage.browser, `${stage.pages.url}/other-wire`, "other", {
        src: stage.origin.liveUrl("other"),
        tracker: stage.tracker.url,
        swarm,
      });
      viewers.push(other);

      // Long enough for the other viewer to have met them, were it in their swarm: the two of
      // one version exchanged segments, and the other played several from the CDN.
      await waitFor(
        async () => {
          const [a, b, c] = await Promise.all(viewers.map((v) => v.read()));
          return a.segments.p2p + b.segments.p2p >= 2 && c.segments.http >= 4 && c.currentTime > 0;
        },
        {
          what: "the same-version viewers to share and the other to play from the CDN",
          timeout: 120_000,
          interval: 1000,
        },
      );
      const [a, b, c] = await Promise.all(viewers.map((v) => v.read()));
      const summary = `same1 p2p ${a.segments.p2p} / http ${a.segments.http}, same2 p2p ${b.segments.p2p} / http ${b.segments.http}, other p2p ${c.segments.p2p} / http ${c.segments.http}, ${c.peerConnects} peer(s)`;
      assert.equal(c.peerConnects, 0, summary);
      assert.equal(c.segments.p2p, 0, summary);
      assert.equal(c.stats?.p2pBytes, 0, summary);
      assert.equal(c.stats?.uploadedBytes, 0, summary);
      // Two swarms on the tracker: one per wire version, though every viewer asked for the same swarmId.
      assert.equal(stage.tracker.stats().swarms, 2);

      // Both builds report the SDK version, in stats and in the peer ids peers see.
      for (const state of [a, b, c]) assert.equal(state.stats?.version, sdkVersion);
      const prefix = `-SC${sdkVersion
        .split(".")
        .map((n) => n.padStart(2, "0"))
        .join("")}-`;
      const peerIds = [...a.stats!.peers, ...b.stats!.peers].map((p) => p.id);
      assert.ok(
        peerIds.length > 0 && peerIds.every((id) => id.startsWith(prefix) && id.length === 20),
        `peer ids ${peerIds.join(" ")}`,
      );
    } finally {
      await Promise.all(viewers.map((v) => v.close()));
    }
  });
});
