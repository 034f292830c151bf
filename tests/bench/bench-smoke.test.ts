import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { RESULT_FORMAT, runBench, type BenchResult } from "../../bench/offload/run.js";

describe("offload bench smoke run", () => {
  const out = mkdtempSync(join(tmpdir(), "swarmcast-bench-"));
  after(() => rmSync(out, { recursive: true, force: true }));

  it(
    "plays 3 swarmcast viewers and writes a complete JSON, Markdown table and SVG chart",
    { timeout: 90_000 },
    async () => {
      const lines: string[] = [];
      const { result, files } = await runBench(
        { viewers: 3, modes: ["swarmcast"], joinInterval: 1, warmup: 6, duration: 14, name: "smoke", out },
        { log: (line) => lines.push(line) },
      );
      assert.deepEqual(Object.values(files), [join(out, "smoke.json"), join(out, "smoke.md"), join(out, "smoke.svg")]);

      const json = JSON.parse(readFileSync(files.json, "utf8")) as BenchResult;
      assert.deepEqual(json, JSON.parse(JSON.stringify(result)));
      assert.equal(json.format, RESULT_FORMAT);
      assert.equal(json.machine.loadavgStart.length, 3);
      assert.equal(json.machine.loadavgEnd.length, 3);
      assert.equal(json.modes.length, 1);
      const mode = json.modes[0];
      assert.equal(mode.mode, "swarmcast");
      assert.equal(mode.viewers, 3);
      assert.equal(mode.bound, 2 / 3);
      assert.equal(mode.viewerResults.length, 3);
      assert.ok(mode.steadyFrom < mode.steadyTo, "steady window");
      assert.ok(mode.steadyTo - mode.steadyFrom >= 14_000, "steady window lasts --duration");
      for (const figures of [mode.steady, mode.whole]) {
        for (const key of [
          "egressSegmentBytes",
          "egressPlaylistBytes",
          "consumedBytes",
          "httpBytes",
          "p2pBytes",
          "uploadedBytes",
          "stalls",
          "stalledMs",
          "watchMs",
        ] as const) {
          assert.equal(typeof figures[key], "number", key);
          assert.ok(figures[key] >= 0, key);
        }
      }
      // The viewers played: bytes flowed from the origin and someone rendered frames.
      assert.ok(mode.steady.consumedBytes > 0, "viewers consumed segment bytes");
      assert.ok(mode.steady.egressSegmentBytes > 0, "origin served segment bytes");
      assert.ok(mode.steady.offload !== null && mode.steady.offload <= 1);
      assert.ok(mode.startupMs.n >= 1, "at least one viewer reached its first frame");
      assert.ok(mode.timeline.length >= 5, "timeline sampled");
      assert.ok(
        mode.timeline.every((p, i) => i === 0 || p.t > mode.timeline[i - 1].t),
        "timeline in time order",
      );
      assert.ok(
        lines.some((l) => l.includes("[swarmcast]") && l.includes("playing")),
        "progress lines",
      );

      const md = readFileSync(files.md, "utf8");
      assert.match(md, /^# Offload bench: smoke$/m);
      assert.match(md, /^\| \| swarmcast \|$/m);
      assert.match(md, /^\|---\|---:\|$/m);
      assert.match(md, /^\| \*\*Offload, steady state\*\* .*\| \*\*-?\d+\.\d %\*\* \|$/m);
      assert.match(md, /^\| Bound \(N−1\)\/N \| 66\.7 % \|$/m);

      const svg = readFileSync(files.svg, "utf8");
      assert.match(svg, /^<svg [^>]*width="900"/);
      assert.match(svg, /<\/svg>\s*$/);
      assert.match(svg, />swarmcast</);
      assert.match(svg, /<path d="M/);
    },
  );
});
