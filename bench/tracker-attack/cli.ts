/**
 * `npm run bench:attack`: /health latency of a tracker process before and during a CPU attack
 * with legal frames — 20 sockets from one address, each sending 60 KB frames at 20 messages/s
 * after a burst of 100 (the message limits a tracker without byte budgets allowed). Two kinds of
 * frame: ~6,500 tiny keys (the costliest JSON to parse), and the most keys a frame may carry
 * (256) padded with one long string. Writes bench/results/tracker-attack.{json,md}.
 *
 * SWARMCAST_ATTACK_TRACKER_BIN points at another `swarmcast-tracker.mjs` (e.g. an older checkout)
 * to measure it the same way; SWARMCAST_ATTACK_LABEL names that run in the results.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";

/** One attack phase of the result table. */
interface PhaseRow {
  frame: string;
  frameBytes: number;
  healthBeforeMedianMs: number;
  healthDuringMedianMs: number;
  healthDuringP95Ms: number;
  healthDuringMaxMs: number;
  ratioMedian: number;
  secondsInProbesOver1s: number;
  framesSent: number;
  socketsClosedByTracker: number;
  probes: { before: number; during: number };
}

const SOCKETS = 20;
const RATE = 20;
const BURST = 100;
const PROBE_INTERVAL_MS = 50;
const PHASE_MS = Number(process.env.SWARMCAST_ATTACK_PHASE_MS ?? 10_000);

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = process.env.SWARMCAST_ATTACK_TRACKER_BIN ?? `${root}tracker/bin/swarmcast-tracker.mjs`;
const label = process.env.SWARMCAST_ATTACK_LABEL ?? "swarmcast-tracker (this checkout)";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)];
}
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(s.length * q))];
}

async function startTracker(): Promise<{ port: number; stop(): void }> {
  const child = spawn(process.execPath, [bin, "--host", "127.0.0.1", "--port", "0", "--log-level", "info"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.setEncoding("utf8");
  const port = await new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`tracker exited with ${code}`)));
    child.stdout.on("data", (d: string) => {
      if (out.length < 10_000) out += d;
      const m = /"url":"ws:\/\/[^"]+:(\d+)"/.exec(out);
      if (m) resolve(Number(m[1]));
    });
  });
  return { port, stop: () => child.kill("SIGKILL") };
}

/** /health every PROBE_INTERVAL_MS for `ms`; latencies in ms (a failed probe counts as its time). */
async function probe(port: number, ms: number): Promise<number[]> {
  const latencies: number[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const t0 = performance.now();
    try {
      await (await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(30_000) })).text();
    } catch {
      // Timed out or refused: the latency below says how long it was stuck.
    }
    latencies.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, PROBE_INTERVAL_MS));
  }
  return latencies;
}

/** The attack runs in its own process, so the probe's latency is the tracker's, not the attacker's. */
function attack(port: number, kind: string): { stop(): Promise<{ sent: number; closes: number }> } {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      `${root}bench/tracker-attack/attacker.ts`,
      String(port),
      kind,
      String(SOCKETS),
      String(RATE),
      String(BURST),
    ],
    {
      stdio: ["ignore", "pipe", "inherit", "ipc"],
    },
  );
  return {
    stop: () =>
      new Promise((resolve) => {
        child.once("message", (m) => {
          child.kill("SIGKILL");
          resolve(m as { sent: number; closes: number });
        });
        child.send("stop");
      }),
  };
}

async function main(): Promise<void> {
  const phases: PhaseRow[] = [];
  for (const kind of ["many-keys", "256-keys"]) {
    const tracker = await startTracker();
    try {
      const before = await probe(tracker.port, PHASE_MS / 2);
      const a = attack(tracker.port, kind);
      const during = await probe(tracker.port, PHASE_MS);
      const { sent, closes } = await a.stop();
      const row: PhaseRow = {
        frame: kind,
        frameBytes: 60_000,
        healthBeforeMedianMs: round(median(before)),
        healthDuringMedianMs: round(median(during)),
        healthDuringP95Ms: round(quantile(during, 0.95)),
        healthDuringMaxMs: round(Math.max(...during)),
        ratioMedian: round(median(during) / median(before)),
        // A median over probes hides one probe stuck for long: this counts the time stuck.
        secondsInProbesOver1s: round(during.filter((x) => x > 1000).reduce((a, b) => a + b, 0) / 1000),
        framesSent: sent,
        socketsClosedByTracker: closes,
        probes: { before: before.length, during: during.length },
      };
      console.log(JSON.stringify(row));
      phases.push(row);
    } finally {
      tracker.stop();
    }
  }
  const result = {
    tracker: label,
    attack: {
      sockets: SOCKETS,
      messageRate: RATE,
      messageBurst: BURST,
      phaseMs: PHASE_MS,
      probeIntervalMs: PROBE_INTERVAL_MS,
    },
    machine: { cpus: os.cpus().length, load: os.loadavg().map(round) },
    date: new Date().toISOString(),
    phases,
  };
  const name = process.env.SWARMCAST_ATTACK_RESULT ?? "tracker-attack";
  writeFileSync(`${root}bench/results/${name}.json`, `${JSON.stringify(result, null, 2)}\n`);
  const md = [
    `# Tracker under a CPU attack with legal frames`,
    "",
    `${label}; ${SOCKETS} sockets from one address, 60 KB frames at ${RATE}/s after a burst of ${BURST}; /health probed every ${PROBE_INTERVAL_MS} ms, ${PHASE_MS / 2000} s before and ${PHASE_MS / 1000} s during. ${result.date}, ${result.machine.cpus} cores, load average ${result.machine.load.join(" / ")} (other work on the machine).`,
    "",
    "The attacker runs in a process of its own on the same cores.",
    "",
    "| Frame | /health median before | median during | p95 during | max during | during / before | time in probes over 1 s | frames sent | sockets closed by the tracker |",
    "|---|---|---|---|---|---|---|---|---|",
    ...phases.map(
      (p) =>
        `| ${p.frame} | ${p.healthBeforeMedianMs} ms | ${p.healthDuringMedianMs} ms | ${p.healthDuringP95Ms} ms | ${p.healthDuringMaxMs} ms | ${p.ratioMedian}× | ${p.secondsInProbesOver1s} s | ${p.framesSent} | ${p.socketsClosedByTracker} |`,
    ),
    "",
  ].join("\n");
  writeFileSync(`${root}bench/results/${name}.md`, md);
  console.log(md);
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
