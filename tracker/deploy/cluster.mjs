#!/usr/bin/env node
// A tracker cluster on one machine: N swarmcast-tracker nodes sharing swarms through Redis,
// behind HAProxy in TCP mode on one address. The example of tracker/README.md's deploy section
// and what the failover test runs.
//
//   node tracker/deploy/cluster.mjs --redis redis://127.0.0.1:6379 --nodes 3 --port 8000
//
// Prints one JSON line once every node answers /health and the balancer listens:
//   {"balancer":"ws://127.0.0.1:8000","nodes":[{"url":"ws://127.0.0.1:8001","pid":123},…]}
// then runs until SIGTERM/SIGINT, which stops the nodes (they drain) and HAProxy.
// Nodes listen on port+1 … port+N (or free ports with --port 0). Extra arguments after `--`
// go to every node (e.g. -- --interval 30 --log-level warn).
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const TRACKER_BIN = fileURLToPath(new URL("../bin/swarmcast-tracker.mjs", import.meta.url));
const HAPROXY = process.env.HAPROXY ?? "/usr/sbin/haproxy";

function parseArgs(argv) {
  const args = { nodes: 3, port: 8000, host: "127.0.0.1", redis: process.env.SWARMCAST_TRACKER_REDIS ?? "", extra: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      args.extra = argv.slice(i + 1);
      break;
    }
    const value = argv[++i];
    if (a === "--nodes") args.nodes = Number(value);
    else if (a === "--port") args.port = Number(value);
    else if (a === "--host") args.host = value;
    else if (a === "--redis") args.redis = value;
    else fail(`unknown option ${a}`);
  }
  if (!Number.isInteger(args.nodes) || args.nodes < 1) fail("--nodes: expected an integer ≥ 1");
  if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535 - args.nodes)
    fail("--port: expected a TCP port");
  if (!/^rediss?:\/\//.test(args.redis)) fail("--redis: expected redis://host:port (or SWARMCAST_TRACKER_REDIS)");
  return args;
}

function fail(message) {
  console.error(`cluster.mjs: ${message}`);
  process.exit(2);
}

async function freePort(host) {
  const srv = createServer().listen(0, host);
  await new Promise((r) => srv.once("listening", r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

async function waitHealthy(url, timeoutMs) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not healthy within ${timeoutMs} ms`);
}

/** HAProxy in TCP mode: a WebSocket stays on the node it connected to; /health takes dead nodes out. */
export function haproxyConfig(host, port, nodes) {
  return [
    "global",
    "  maxconn 8000", // two sockets per client; stays under a 20,000 open-files limit
    "defaults",
    "  mode tcp",
    "  timeout connect 2s",
    "  timeout client 1h",
    "  timeout server 1h",
    "  option redispatch",
    "  retries 3",
    "frontend trackers",
    `  bind ${host}:${port}`,
    "  default_backend nodes",
    "backend nodes",
    "  balance roundrobin",
    "  option httpchk GET /health",
    "  http-check expect status 200",
    "  default-server inter 1s fall 1 rise 1 on-marked-down shutdown-sessions",
    ...nodes.map((n, i) => `  server node${i + 1} ${host}:${n.port} check`),
    "",
  ].join("\n");
}

const children = [];

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const balancerPort = args.port === 0 ? await freePort(args.host) : args.port;
  const nodes = [];
  for (let i = 0; i < args.nodes; i++) {
    const port = args.port === 0 ? await freePort(args.host) : args.port + 1 + i;
    const child = spawn(
      process.execPath,
      [TRACKER_BIN, "--host", args.host, "--port", String(port), "--redis", args.redis, ...args.extra],
      {
        stdio: ["ignore", "inherit", "inherit"],
      },
    );
    children.push(child);
    nodes.push({ port, child, url: `ws://${args.host}:${port}`, pid: child.pid });
  }
  await Promise.all(nodes.map((n) => waitHealthy(`http://${args.host}:${n.port}/health`, 40_000)));

  const dir = mkdtempSync(join(tmpdir(), "swarmcast-haproxy-"));
  const cfg = join(dir, "haproxy.cfg");
  writeFileSync(cfg, haproxyConfig(args.host, balancerPort, nodes));
  const haproxy = spawn(HAPROXY, ["-f", cfg, "-db"], { stdio: ["ignore", "inherit", "inherit"] });
  children.push(haproxy);
  await waitHealthy(`http://${args.host}:${balancerPort}/health`, 10_000);

  console.log(
    JSON.stringify({
      balancer: `ws://${args.host}:${balancerPort}`,
      haproxyPid: haproxy.pid,
      nodes: nodes.map(({ url, pid, port }) => ({ url, pid, port })),
    }),
  );

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const n of nodes) n.child.kill("SIGTERM");
    haproxy.kill("SIGTERM");
    setTimeout(() => process.exit(0), 4000).unref();
    Promise.all(
      [...nodes.map((n) => n.child), haproxy].map((c) =>
        c.exitCode !== null || c.signalCode !== null ? null : new Promise((r) => c.once("exit", r)),
      ),
    ).then(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  haproxy.once("exit", (code) => {
    if (!stopping) {
      console.error(`cluster.mjs: haproxy exited (${code})`);
      stop();
    }
  });
}

main().catch((err) => {
  console.error(`cluster.mjs: ${err.message}`);
  for (const c of children) c.kill("SIGKILL");
  process.exit(1);
});
