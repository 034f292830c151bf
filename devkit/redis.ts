/**
 * A real Redis for tests and benches: Debian's redis-server on a free loopback port, without
 * persistence, stopped (or killed, or restarted on the same port) on request.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";

export const REDIS_SERVER = process.env.SWARMCAST_REDIS_SERVER ?? "/usr/bin/redis-server";

export interface RedisProcess {
  url: string;
  port: number;
  /** The running server's process id (0 while stopped). */
  pid(): number;
  /** SIGKILLs the server (data is gone: it never persists). */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

export async function startRedis(): Promise<RedisProcess> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const start = async () => {
    const proc = spawn(
      REDIS_SERVER,
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--protected-mode",
        "no",
        "--loglevel",
        "warning",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child = proc;
    let out = "";
    proc.stdout.on("data", (d) => (out += d));
    proc.stderr.on("data", (d) => (out += d));
    const ready = await waitForPort(port, 5000, () => proc.exitCode !== null);
    if (!ready) throw new Error(`redis-server did not start on ${port}: ${out.slice(0, 500)}`);
  };
  const kill = async () => {
    const c = child;
    child = null;
    if (c === null || c.exitCode !== null) return;
    const exited = once(c, "exit");
    c.kill("SIGKILL");
    await exited;
  };
  await start();
  const pid = () => child?.pid ?? 0;
  return { url: `redis://127.0.0.1:${port}`, port, pid, kill, start, stop: kill };
}

async function waitForPort(port: number, timeoutMs: number, failed: () => boolean): Promise<boolean> {
  const { connect } = await import("node:net");
  const end = Date.now() + timeoutMs;
  while (Date.now() < end && !failed()) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.write("PING\r\n");
        s.once("data", (d) => {
          s.destroy();
          resolve(d.toString().startsWith("+PONG"));
        });
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 30));
  }
  return false;
}
