import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, renameSync, statSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const SOURCE = fileURLToPath(new URL("./delay-line.c", import.meta.url));
const BUILD_DIR = fileURLToPath(new URL("./build/", import.meta.url));
const BINARY = `${BUILD_DIR}delay-line`;

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

/** Compiles delay-line.c with the machine's C compiler when the binary is missing or older. */
export function buildDelayLine(): string {
  let fresh = false;
  try {
    fresh = statSync(BINARY).mtimeMs >= statSync(SOURCE).mtimeMs;
  } catch {
    fresh = false;
  }
  if (fresh) return BINARY;
  mkdirSync(BUILD_DIR, { recursive: true });
  const partial = `${BINARY}.${process.pid}`;
  const compiler = process.env.CC ?? "cc";
  try {
    execFileSync(compiler, ["-O2", "-Wall", "-o", partial, SOURCE], { stdio: ["ignore", "ignore", "pipe"] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? "";
    throw new Error(`building the delay line with ${compiler} failed: ${stderr || (error as Error).message}`);
  }
  renameSync(partial, BINARY);
  return BINARY;
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
  const binary = buildDelayLine();
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
