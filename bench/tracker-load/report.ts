/** Markdown table of a tracker load run. */
import type { IdlePhase, LoadPhase, TrackerBenchResult } from "./run";

const fmt = (x: number, d = 0) =>
  Number.isFinite(x) ? x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d }) : "–";
const kb = (b: number) => fmt(b / 1024, 1);

export function renderMarkdown(r: TrackerBenchResult, note = ""): string {
  const c = r.config;
  const lines: string[] = [];
  lines.push("# Tracker load bench");
  lines.push("");
  lines.push(
    `Run ${r.startedAt} – ${r.finishedAt} on ${r.machine.cpus} × ${r.machine.model}, Node ${r.machine.node}, ` +
      `load average at start ${r.machine.loadAverage.join(" / ")}, open-files limit ${r.machine.openFilesLimit}.`,
  );
  if (note) lines.push("", note);
  lines.push("");
  lines.push(
    `Load: ${fmt(c.connections)} connections (one peer each) in ${fmt(c.swarms)} swarms with Zipf(s=${c.zipfS}) popularity; ` +
      `every announce carries ${c.offers} offers (≈1 KB SDP each) and every relayed offer is answered. ` +
      `Fixed offered load: ${fmt(c.rate)} announces/s for ${c.rateSeconds} s (after ${c.warmupSeconds} s of warm-up). ` +
      `Saturation: ${fmt(c.window)} connections each keeping one announce outstanding for ${c.saturationSeconds} s. ` +
      `Both load phases are cut into ${c.rounds} rounds that alternate the trackers (A B, B A, …). Each tracker runs alone in its own process; ` +
      "CPU is that process's `process.cpuUsage()`, memory its RSS after a full GC. Load generators are separate processes.",
  );
  lines.push("");
  lines.push("| | " + r.trackers.map((t) => t.kind).join(" | ") + (r.ratios ? " | ratio (ours / ref) |" : " |"));
  lines.push("|---|" + r.trackers.map(() => "---:").join("|") + (r.ratios ? "|---:|" : "|"));
  const row = (label: string, get: (p: LoadPhase) => string, ratio?: number) =>
    lines.push(
      `| ${label} | ${r.trackers.map((t) => get(t.fixedLoad)).join(" | ")}${r.ratios ? ` | ${ratio === undefined ? "" : fmt(ratio, 2) + "×"}` : ""} |`,
    );
  const srow = (label: string, get: (p: LoadPhase) => string, ratio?: number) =>
    lines.push(
      `| ${label} | ${r.trackers.map((t) => get(t.saturation)).join(" | ")}${r.ratios ? ` | ${ratio === undefined ? "" : fmt(ratio, 2) + "×"}` : ""} |`,
    );
  const q = r.ratios;
  row("**fixed load:** announce replies per tracker CPU-second", (p) => fmt(p.repliesPerCpuSecond), q?.efficiency);
  row(
    "tracker CPU ms per 1,000 announces (each with its offers and answers)",
    (p) => fmt(p.cpuMsPer1000Replies, 1),
    q?.cpuPer1000Replies,
  );
  row("announce replies/s (offered)", (p) => fmt(p.repliesPerSecond));
  row("frames sent by the tracker /s", (p) => fmt(p.framesOutPerSecond));
  row(
    "announce-reply latency p50 / p99 (ms)",
    (p) => `${fmt(p.latencyMs.p50, 2)} / ${fmt(p.latencyMs.p99, 2)}`,
    q?.fixedLoadP99,
  );
  row("frames per socket write", (p) => (p.framesPerWrite === null ? "1 (no coalescing)" : fmt(p.framesPerWrite, 2)));
  row(
    "tracker CPU share (1 = one core); of which kernel",
    (p) => `${fmt(p.trackerCpuShare, 2)}; ${fmt((p.trackerSystemCpuMs / p.trackerCpuMs) * 100)} %`,
  );
  srow("**saturation:** announce replies/s", (p) => fmt(p.repliesPerSecond), q?.saturationRepliesPerSecond);
  srow("frames sent by the tracker /s", (p) => fmt(p.framesOutPerSecond));
  srow("announce-reply latency p50 / p99 (ms)", (p) => `${fmt(p.latencyMs.p50, 1)} / ${fmt(p.latencyMs.p99, 1)}`);
  srow("tracker CPU share (1 = one core)", (p) => fmt(p.trackerCpuShare, 2));
  srow("announce replies per tracker CPU-second", (p) => fmt(p.repliesPerCpuSecond));
  const sizes = [...new Set(r.trackers.flatMap((t) => t.idle.map((p) => p.target)))].sort((a, b) => a - b);
  for (const n of sizes) {
    const cells = r.trackers.map((t) => {
      const p = t.idle.find((x) => x.target === n);
      return p ? `${kb(p.rssPerConnection)} KB (${kb(p.heapPerConnection)} KB heap), ${fmt(p.opened)} held` : "–";
    });
    const ratio = q && q.memoryPerConnectionAt === n ? ` | ${fmt(q.memoryPerConnection, 2)}×` : q ? " | " : "";
    lines.push(
      `| **${fmt(n)} idle connections** (announced once): RSS per connection from the empty baseline | ${cells.join(" | ")}${ratio} |`,
    );
  }
  if (sizes.length > 1) {
    const n = sizes[sizes.length - 1];
    const cells = r.trackers.map((t) => {
      const p = t.idle.find((x) => x.target === n);
      return p?.marginalRssPerConnection != null
        ? `${kb(p.marginalRssPerConnection)} KB (${kb(p.marginalHeapPerConnection ?? NaN)} KB heap)`
        : "–";
    });
    const ratio =
      q?.marginalMemoryPerConnection != null ? ` | ${fmt(q.marginalMemoryPerConnection, 2)}×` : q ? " | " : "";
    lines.push(
      `| marginal RSS per connection, ${fmt(sizes[sizes.length - 2])} → ${fmt(n)} | ${cells.join(" | ")}${ratio} |`,
    );
  }
  lines.push("");
  lines.push(...floorTable(r));
  const notes = [...r.trackers, ...r.floors].flatMap((t) => t.notes.map((n) => `${t.kind}: ${n}`));
  const top = r.trackers.flatMap((t) => t.idle.map((p) => p.topSwarm));
  if (top.some((n) => n > 1000)) {
    notes.push(
      `the largest idle swarm held ${fmt(Math.max(...top))} peers; bittorrent-tracker keeps at most 1,000 per swarm (LRU), so it stored fewer peers than we did`,
    );
  }
  if (notes.length) lines.push("Notes:", "", ...notes.map((n) => `- ${n}`), "");
  return lines.join("\n");
}

const FLOOR_LABEL: Record<string, string> = {
  "socket-floor": "Node's socket alone (`node:http`, handshake answered, socket kept)",
  "ws-floor": "Node's socket + a `ws` WebSocket, no tracker state",
  swarmcast: "swarmcast tracker",
  reference: "bittorrent-tracker's Server",
};

/**
 * Where a connection's memory goes: the floors (no tracker behind the connections) next to both
 * trackers, at the largest idle step all of them reached.
 */
function floorTable(r: TrackerBenchResult): string[] {
  const floors = r.floors;
  if (floors.length === 0) return [];
  const rows = [...floors, ...r.trackers];
  const reached = (n: number) => rows.every((t) => t.idle.some((p) => p.target === n && p.opened > 0));
  const sizes = [...new Set(rows.flatMap((t) => t.idle.map((p) => p.target)))].filter(reached).sort((a, b) => a - b);
  const n = sizes.at(-1);
  if (n === undefined) return [];
  const at = (t: { idle: IdlePhase[] }) => t.idle.find((p) => p.target === n)!;
  const lines = [
    `### Where a connection's memory goes (${fmt(n)} idle connections)`,
    "",
    "| | RSS per connection from the empty baseline | heap | marginal RSS, last step |",
    "|---|---:|---:|---:|",
  ];
  for (const t of rows) {
    const p = at(t);
    const marginal = p.marginalRssPerConnection == null ? "–" : `${kb(p.marginalRssPerConnection)} KB`;
    lines.push(
      `| ${FLOOR_LABEL[t.kind] ?? t.kind} | ${kb(p.rssPerConnection)} KB | ${kb(p.heapPerConnection)} KB | ${marginal} |`,
    );
  }
  const ref = r.trackers.find((t) => t.kind === "reference");
  const wsFloor = floors.find((t) => t.kind === "ws-floor");
  if (ref && wsFloor) {
    const half = at(ref).rssPerConnection / 2;
    const floor = at(wsFloor).rssPerConnection;
    lines.push(
      "",
      `Half the reference's RSS per connection is ${kb(half)} KB; Node's socket with a \`ws\` WebSocket and nothing else ` +
        `takes ${kb(floor)} KB (${fmt(floor / half, 2)}× that half).`,
    );
  }
  lines.push("");
  return lines;
}
