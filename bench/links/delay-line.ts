import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { buildNative } from "./native";

/** One namespace's delays: packets it receives wait this long before the namespace sees them. */
export interface DelayEntry {
  namespace: string;
  /** For packets from the CDN address (origin and tracker), ms. */
  cdnDelayMs: number;
  /** For packets from anyone else (peers, the TURN server), ms. */
  peerDelayMs: number;
}

/** Counters of a running delay line (see delay-line.c). */
export interface DelayLineStats {
  packets: number;
  held: number;
  /** How late packets left after their due time, on average and at most, µs. */
  meanLateUs: number;
  maxLateUs: number;
  sendErrors: number;
  overruns: number;
}

export interface DelayLine {
  readonly pid: number;
  stats(): Promise<DelayLineStats>;
  /** User + system CPU seconds the process has used so far. */
  cpuSeconds(): number;
  close(): void;
}

/** CPU seconds (utime + stime) of process `pid`, from /proc. */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 of /proc/<pid>/stat, counted after the command name (which ends at ")").
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Starts one delay line for `entries` (the namespaces must exist; their NFQUEUE rules may come
 * before or after). Resolves once every namespace's queue is bound.
 */
export async function startDelayLine(cdnAddress: string, entries: DelayEntry[]): Promise<DelayLine> {
  const binary = buildNative("delay-line");
  const us = (ms: number) => String(Math.round(ms * 1000));
  const child: ChildProcess = spawn(
    binary,
    [cdnAddress, ...entries.map((e) => `${e.namespace},${us(e.cdnDelayMs)},${us(e.peerDelayMs)}`)],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout! });
  const waiting: ((line: string) => void)[] = [];
  lines.on("line", (line) => waiting.shift()?.(line));
  const nextLine = () =>
    new Promise<string>((resolve, reject) => {
      waiting.push(resolve);
      child.once("exit", (code) => reject(new Error(`delay line exited ${code}: ${stderr.trim()}`)));
    });
  const ready = await nextLine();
  if (ready !== "ready") throw new Error(`delay line said "${ready}" instead of ready`);
  return {
    pid: child.pid!,
    async stats() {
      const line = nextLine();
      child.stdin!.write("stats\n");
      return JSON.parse(await line) as DelayLineStats;
    },
    cpuSeconds: () => processCpuSeconds(child.pid!),
    close() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}
