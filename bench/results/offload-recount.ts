/**
 * Offload of audience-bench results counted against the segment bytes the players took in (each
 * segment once, whatever its source), next to the figure against the bytes the viewers received
 * (which also counts what they threw away: a peer transfer given up for the CDN, a segment
 * loaded twice), and the CDN egress per viewer-minute of playback, the broadcaster's bill.
 *
 *   tsx bench/results/offload-recount.ts bench/results/audience-13-urgent.json … [--out bench/results/offload-recount]
 *
 * Writes <out>.md and <out>.json. The bench itself counts offload against what the players took
 * in; results written before it did carry both counts per viewer, which is what this reads.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";

interface ViewerCounts {
  cdnBytes: number;
  httpBytes: number;
  p2pBytes: number;
  httpByLevel: number[];
  p2pByLevel: number[];
  watchMs: number;
}

interface AudienceResult {
  modes: Array<{ mode: string; viewers: ViewerCounts[]; steady: { bound: number } }>;
}

interface Row {
  source: string;
  mode: string;
  viewers: number;
  cdnMB: number;
  takenInMB: number;
  receivedMB: number;
  /** 1 − CDN egress / taken in. */
  offload: number;
  /** 1 − CDN egress / received: the count of results before the bench changed. */
  offloadOverReceived: number;
  bound: number;
  cdnMBPerViewerMinute: number;
}

const total = (list: readonly number[]) => list.reduce((a, b) => a + b, 0);

function rowsOf(path: string): Row[] {
  const result = JSON.parse(readFileSync(path, "utf8")) as AudienceResult;
  return result.modes.map(({ mode, viewers, steady }) => {
    const cdn = total(viewers.map((v) => v.cdnBytes));
    const takenIn = total(viewers.map((v) => total(v.httpByLevel) + total(v.p2pByLevel)));
    const received = total(viewers.map((v) => v.httpBytes + v.p2pBytes));
    const minutes = total(viewers.map((v) => v.watchMs)) / 60_000;
    return {
      source: basename(path, ".json"),
      mode,
      viewers: viewers.length,
      cdnMB: cdn / 1e6,
      takenInMB: takenIn / 1e6,
      receivedMB: received / 1e6,
      offload: takenIn > 0 ? 1 - cdn / takenIn : 0,
      offloadOverReceived: received > 0 ? 1 - cdn / received : 0,
      bound: steady.bound,
      cdnMBPerViewerMinute: minutes > 0 ? cdn / 1e6 / minutes : 0,
    };
  });
}

const pct = (v: number) => `${(v * 100).toFixed(1)} %`;

function markdown(rows: Row[]): string {
  const lines = [
    "# Audience-bench offload against what the players took in",
    "",
    "Offload = 1 − CDN segment egress / segment bytes the players took in (each segment once). The",
    "second figure divides by the bytes the viewers received instead, thrown-away transfers included,",
    "as results before this count did. CDN per viewer-minute is the egress divided by the minutes",
    "played: the broadcaster's bill, comparable across modes of one run.",
    "",
    "| Result | Mode | Viewers | Offload (÷ bound) | Over received | Received ÷ taken in | CDN MB per viewer-minute |",
    "| ------ | ---- | ------- | ----------------- | ------------- | ------------------- | ------------------------ |",
  ];
  for (const r of rows) {
    const ratio = r.bound > 0 ? ` (${(r.offload / r.bound).toFixed(2)})` : "";
    lines.push(
      `| ${r.source} | ${r.mode} | ${r.viewers} | ${pct(r.offload)}${ratio} | ${pct(r.offloadOverReceived)} | ${(r.receivedMB / Math.max(1e-9, r.takenInMB)).toFixed(2)} | ${r.cdnMBPerViewerMinute.toFixed(2)} |`,
    );
  }
  return lines.join("\n") + "\n";
}

const args = process.argv.slice(2);
const outAt = args.indexOf("--out");
const out = outAt >= 0 ? args[outAt + 1] : "bench/results/offload-recount";
const files = args.filter((_, i) => i !== outAt && i !== outAt + 1);
if (files.length === 0) {
  console.error("usage: tsx bench/results/offload-recount.ts <audience result .json>… [--out <base>]");
  process.exit(2);
}
const rows = files.flatMap(rowsOf);
writeFileSync(`${out}.json`, JSON.stringify(rows, null, 2) + "\n");
writeFileSync(`${out}.md`, markdown(rows));
console.log(markdown(rows));
