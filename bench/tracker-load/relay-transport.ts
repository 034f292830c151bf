/**
 * `npm run bench:tracker -- --relay-transport`: the cross-node relay over Redis pub/sub (what the
 * tracker uses) against Redis streams, side by side in one run.
 *
 * Two processes stand for two tracker nodes: the sender batches relay records (an offer head
 * and a ≈1 KB SDP literal, the tracker's own record format) into one Redis message per target
 * and tick, as the tracker does per event-loop turn; the receiver reads them and records each
 * record's one-way latency (same machine, same clock). Pub/sub: PUBLISH to the node's channel,
 * SUBSCRIBE on a dedicated connection. Streams: XADD (MAXLEN ~ trimmed) to the node's stream,
 * a blocking XREAD loop on a dedicated connection. Rounds alternate the transports.
 * Reported per transport: latency p50/p99, sender + receiver CPU and Redis CPU per 1,000
 * relayed records.
 */
import { type ChildProcess, fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { startRedis } from "../../devkit/redis";

export type RelayTransport = "pubsub" | "streams";
export const RELAY_TRANSPORTS: RelayTransport[] = ["pubsub", "streams"];

export const DEFAULT_RELAY_BENCH = {
  /** Relay records per second. */
  rate: 2000,
  /** Sender tick, milliseconds: records of one tick leave as one Redis message. */
  tickMs: 5,
  seconds: 10,
  warmupSeconds: 2,
  /** Rounds per transport, alternating. */
  rounds: 2,
  /** Streams are trimmed to about this many entries. */
  streamMaxLen: 10_000,
};
export type RelayBenchConfig = typeof DEFAULT_RELAY_BENCH;

const SDP = JSON.stringify(
  "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n" +
    "a=candidate:1467250027 1 udp 2122260223 192.168.1.23 46243 typ host generation 0\r\na=ice-ufrag:Zx9Q\r\na=ice-pwd:8Yq3v1bS0m5kR2cT7nW4pL6d\r\n" +
    "a=fingerprint:sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08\r\na=setup:actpass\r\na=sctp-port:5000\r\n" +
    "a=max-message-size:262144\r\n".repeat(12),
);
const KEY = "bench:relay:node2";

type ToChild =
  | { type: "start"; rate: number; tickMs: number; seconds: number; warmupSeconds: number; maxLen: number }
  | { type: "stop" };
type FromChild =
  | { type: "ready" }
  | { type: "measuring" }
  | { type: "done"; cpuMs: number; records: number; total: number; latencies: number[] };

const now = () => performance.timeOrigin + performance.now();

// ---- child processes ---------------------------------------------------------------------------

async function sender(transport: RelayTransport, url: string): Promise<void> {
  const redis = new Redis(url, { enableAutoPipelining: true });
  await redis.ping();
  process.send!({ type: "ready" } satisfies FromChild);
  process.on("message", (m: ToChild) => {
    if (m.type !== "start") return;
    const perTick = (m.rate * m.tickMs) / 1000;
    let carry = 0;
    let seq = 0;
    let measuring = false;
    let cpu0 = process.cpuUsage();
    let sent = 0;
    const timer = setInterval(() => {
      carry += perTick;
      const records: string[] = [];
      for (; carry >= 1; carry--) {
        records.push(
          `o${JSON.stringify(["ih__________________", "to__________________", "from", `o${++seq}`, now()])}\n${SDP}`,
        );
      }
      if (records.length === 0) return;
      if (measuring) sent += records.length;
      const message = records.join("\n");
      const written =
        transport === "pubsub"
          ? redis.publish(KEY, message)
          : redis.xadd(KEY, "MAXLEN", "~", m.maxLen, "*", "r", message);
      written.catch(() => {}); // the connection closes at the end with writes in flight
    }, m.tickMs);
    setTimeout(() => {
      measuring = true;
      cpu0 = process.cpuUsage();
      process.send!({ type: "measuring" } satisfies FromChild);
    }, m.warmupSeconds * 1000);
    setTimeout(
      () => {
        clearInterval(timer);
        const d = process.cpuUsage(cpu0);
        process.send!({
          type: "done",
          cpuMs: (d.user + d.system) / 1000,
          records: sent,
          total: seq,
          latencies: [],
        } satisfies FromChild);
        redis.disconnect();
        setTimeout(() => process.exit(0), 100);
      },
      (m.warmupSeconds + m.seconds) * 1000,
    );
  });
}

async function receiver(transport: RelayTransport, url: string): Promise<void> {
  const redis = new Redis(url);
  const latencies: number[] = [];
  let measuring = false;
  let cpu0 = process.cpuUsage();
  let stopped = false;
  let total = 0;
  const onMessage = (message: string) => {
    const at = now();
    let pos = 0;
    while (pos < message.length) {
      const nl = message.indexOf("\n", pos);
      let end = message.indexOf("\n", nl + 1);
      if (end < 0) end = message.length;
      const head = JSON.parse(message.slice(pos + 1, nl)) as [string, string, string, string, number];
      JSON.parse(message.slice(nl + 1, end)); // the tracker splices the literal; parse stands for that work
      total++;
      if (measuring) latencies.push(at - head[4]);
      pos = end + 1;
    }
  };
  if (transport === "pubsub") {
    redis.on("message", (_channel: string, message: string) => onMessage(message));
    await redis.subscribe(KEY);
  } else {
    await redis.del(KEY);
    void (async () => {
      let last = "$";
      while (!stopped) {
        const res = await redis.xread("COUNT", 1000, "BLOCK", 500, "STREAMS", KEY, last);
        if (res === null) continue;
        for (const [, entries] of res) {
          for (const [id, fields] of entries) {
            last = id;
            onMessage(fields[1]);
          }
        }
      }
    })().catch(() => {}); // the connection closes at the end with a read pending
  }
  process.on("message", (m: ToChild | { type: "measure" }) => {
    if (m.type === "measure") {
      measuring = true;
      cpu0 = process.cpuUsage();
    } else if (m.type === "stop") {
      measuring = false;
      stopped = true;
      const d = process.cpuUsage(cpu0);
      process.send!({
        type: "done",
        cpuMs: (d.user + d.system) / 1000,
        records: latencies.length,
        total,
        latencies,
      } satisfies FromChild);
      setTimeout(() => process.exit(0), 100);
    }
  });
  process.send!({ type: "ready" } satisfies FromChild);
}

// ---- parent ----------------------------------------------------------------------------------

function child(role: "sender" | "receiver", transport: RelayTransport, url: string): Promise<ChildProcess> {
  const proc = fork(fileURLToPath(import.meta.url), [role, transport, url], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    proc.once("message", (m: FromChild) => (m.type === "ready" ? resolve(proc) : reject(new Error(JSON.stringify(m)))));
    proc.once("exit", (code) => reject(new Error(`${role} exited ${code}`)));
  });
}

function next(proc: ChildProcess, type: FromChild["type"]): Promise<FromChild> {
  return new Promise((resolve) => {
    const on = (m: FromChild) => {
      if (m.type !== type) return;
      proc.off("message", on);
      resolve(m);
    };
    proc.on("message", on);
  });
}

function procCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

export interface RelayTransportRow {
  transport: RelayTransport;
  records: number;
  lost: number;
  p50Ms: number;
  p99Ms: number;
  nodeCpuMsPer1000: number;
  redisCpuMsPer1000: number;
}

export interface RelayTransportResult {
  config: RelayBenchConfig;
  date: string;
  cpus: number;
  loadAverage: number[];
  rows: RelayTransportRow[];
  note: string;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export async function runRelayTransportBench(
  partial: Partial<RelayBenchConfig> = {},
  note = "",
  log: (line: string) => void = () => {},
): Promise<RelayTransportResult> {
  const cfg = { ...DEFAULT_RELAY_BENCH, ...partial };
  const before = loadavg();
  const redis = await startRedis();
  const acc = new Map<
    RelayTransport,
    { sent: number; got: number; lost: number; lat: number[]; nodeCpu: number; redisCpu: number }
  >();
  try {
    for (let round = 0; round < cfg.rounds; round++) {
      for (const transport of round % 2 === 0 ? RELAY_TRANSPORTS : [...RELAY_TRANSPORTS].reverse()) {
        const rx = await child("receiver", transport, redis.url);
        const tx = await child("sender", transport, redis.url);
        const measuring = next(tx, "measuring");
        const sent = next(tx, "done");
        tx.send({
          type: "start",
          rate: cfg.rate,
          tickMs: cfg.tickMs,
          seconds: cfg.seconds,
          warmupSeconds: cfg.warmupSeconds,
          maxLen: cfg.streamMaxLen,
        } satisfies ToChild);
        await measuring;
        rx.send({ type: "measure" });
        const redis0 = procCpuMs(redis.pid());
        const txDone = (await sent) as Extract<FromChild, { type: "done" }>;
        const redis1 = procCpuMs(redis.pid());
        await new Promise((r) => setTimeout(r, 300)); // the last records in flight
        const received = next(rx, "done");
        rx.send({ type: "stop" } satisfies ToChild);
        const rxDone = (await received) as Extract<FromChild, { type: "done" }>;
        const a = acc.get(transport) ?? { sent: 0, got: 0, lost: 0, lat: [], nodeCpu: 0, redisCpu: 0 };
        a.sent += txDone.total;
        a.got += rxDone.records;
        a.lost += Math.max(0, txDone.total - rxDone.total);
        for (const l of rxDone.latencies) a.lat.push(l);
        a.nodeCpu += txDone.cpuMs + rxDone.cpuMs;
        a.redisCpu += redis1 - redis0;
        acc.set(transport, a);
        log(`${transport} round ${round + 1}: ${rxDone.total}/${txDone.total} records received`);
        await Promise.all(
          [tx, rx].map((p) => (p.exitCode !== null ? Promise.resolve() : new Promise((r) => p.once("exit", r)))),
        );
      }
    }
  } finally {
    await redis.stop();
  }
  const after = loadavg();
  const rows = RELAY_TRANSPORTS.map((transport) => {
    const a = acc.get(transport)!;
    a.lat.sort((x, y) => x - y);
    return {
      transport,
      records: a.got,
      lost: a.lost,
      p50Ms: percentile(a.lat, 50),
      p99Ms: percentile(a.lat, 99),
      nodeCpuMsPer1000: (a.nodeCpu / a.got) * 1000,
      redisCpuMsPer1000: (a.redisCpu / a.got) * 1000,
    };
  });
  return {
    config: cfg,
    date: new Date().toISOString(),
    cpus: cpus().length,
    loadAverage: before.map((l, i) => Math.round(((l + after[i]) / 2) * 100) / 100),
    rows,
    note,
  };
}

export function renderRelayTransportMarkdown(r: RelayTransportResult): string {
  const c = r.config;
  const [ps, st] = r.rows;
  const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : "–");
  return [
    "# Cross-node relay: Redis pub/sub vs streams",
    "",
    `${r.date}, ${r.cpus} cores, load average ${r.loadAverage.join(" / ")} (1/5/15 min, mean of before and after)${r.note ? `; ${r.note}` : ""}.`,
    "",
    `${c.rate} relay records/s (offer head + ≈1.3 KB SDP literal, the tracker's record format), batched into one Redis message per ${c.tickMs} ms tick, ` +
      `${c.warmupSeconds} s warm-up then ${c.seconds} s measured, ${c.rounds} rounds per transport alternating. Sender and receiver are separate processes ` +
      `(two nodes); streams: XADD MAXLEN ~ ${c.streamMaxLen}, blocking XREAD loop; pub/sub: PUBLISH, SUBSCRIBE.`,
    "",
    "| transport | records received | lost | latency p50 ms | latency p99 ms | node CPU ms / 1,000 records (sender + receiver) | Redis CPU ms / 1,000 records |",
    "|---|---|---|---|---|---|---|",
    ...r.rows.map(
      (x) =>
        `| ${x.transport} | ${x.records} | ${x.lost} | ${f(x.p50Ms, 2)} | ${f(x.p99Ms, 2)} | ${f(x.nodeCpuMsPer1000)} | ${f(x.redisCpuMsPer1000)} |`,
    ),
    "",
    `**Streams vs pub/sub: latency p50 ${f(st.p50Ms / ps.p50Ms, 2)}×, p99 ${f(st.p99Ms / ps.p99Ms, 2)}×, node CPU ${f(st.nodeCpuMsPer1000 / ps.nodeCpuMsPer1000, 2)}×, Redis CPU ${f(st.redisCpuMsPer1000 / ps.redisCpuMsPer1000, 2)}×.**`,
    "",
  ].join("\n");
}

const [role, transport, url] = process.argv.slice(2);
if (process.send !== undefined && (role === "sender" || role === "receiver")) {
  void (role === "sender" ? sender : receiver)(transport as RelayTransport, url);
}
