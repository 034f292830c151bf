import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const TURN_PORT = 3478;
const REALM = "swarmcast.bench";

/** What a WebRTC peer connection takes as one entry of `iceServers`. */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** TURN use of one user (one viewer), read from coturn's log. */
export interface TurnUserUsage {
  /** Allocations coturn granted (a relay address handed out). */
  allocations: number;
  /** Permissions or channels bound towards a peer through those allocations. */
  peerBindings: number;
  /** Bytes relayed, from the usage lines coturn writes for allocations (sent + received by the client). */
  bytes: number;
}

export interface TurnServer {
  readonly address: string;
  /** STUN and TURN (UDP and TCP) on this server, with the user's own credentials. */
  iceServers(user: string): IceServer[];
  /** Per user, what coturn logged so far (users without any entry are left out). */
  usage(): Map<string, TurnUserUsage>;
  close(): void;
}

/**
 * Debian's coturn (`turnserver`) as STUN and TURN server, run inside `namespace` on `address`,
 * with one long-term credential per user so that its log tells who relayed.
 */
export async function startTurnServer(namespace: string, address: string, users: string[]): Promise<TurnServer> {
  const dir = mkdtempSync(join(tmpdir(), "swarmcast-turn-"));
  const passwords = new Map(users.map((u) => [u, randomBytes(9).toString("base64url")]));
  const log = join(dir, "turn.log");
  writeFileSync(
    join(dir, "turnserver.conf"),
    [
      `listening-ip=${address}`,
      `relay-ip=${address}`,
      `listening-port=${TURN_PORT}`,
      "min-port=40000",
      "max-port=65000",
      `realm=${REALM}`,
      "lt-cred-mech",
      ...[...passwords].map(([user, password]) => `user=${user}:${password}`),
      `userdb=${join(dir, "turndb")}`,
      "fingerprint",
      "no-tls",
      "no-dtls",
      "no-cli",
      "no-rfc5780",
      "no-software-attribute",
      `log-file=${log}`,
      "simple-log",
      "verbose",
      `pidfile=${join(dir, "turn.pid")}`,
    ].join("\n") + "\n",
  );
  const child: ChildProcess = spawn(
    "ip",
    ["netns", "exec", namespace, "turnserver", "-c", join(dir, "turnserver.conf")],
    {
      stdio: "ignore",
    },
  );
  const close = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForStun(address, () => child.exitCode !== null);
  } catch (error) {
    close();
    throw error;
  }
  return {
    address,
    iceServers(user) {
      const credential = passwords.get(user);
      if (!credential) throw new Error(`TURN server: no user "${user}"`);
      return [
        { urls: `stun:${address}:${TURN_PORT}` },
        {
          urls: [`turn:${address}:${TURN_PORT}?transport=udp`, `turn:${address}:${TURN_PORT}?transport=tcp`],
          username: user,
          credential,
        },
      ];
    },
    usage: () => parseTurnLog(readFileSync(log, "utf8")),
    close,
  };
}

/** Sends STUN binding requests to address:3478 until one is answered (coturn is up). */
async function waitForStun(address: string, exited: () => boolean, timeoutMs = 10_000): Promise<void> {
  const socket = createSocket("udp4");
  const answered = new Promise<void>((resolve) => socket.once("message", () => resolve()));
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      if (exited()) throw new Error("turnserver exited at start");
      // Binding request: type 0x0001, length 0, magic cookie, 12-byte transaction id.
      const request = Buffer.concat([Buffer.from([0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42]), randomBytes(12)]);
      socket.send(request, TURN_PORT, address);
      const ok = await Promise.race([answered.then(() => true), new Promise((r) => setTimeout(() => r(false), 100))]);
      if (ok) return;
    }
    throw new Error(`turnserver did not answer STUN on ${address}:${TURN_PORT} within ${timeoutMs} ms`);
  } finally {
    socket.close();
  }
}

/** Allocations, peer bindings and relayed bytes per user in a coturn log. */
export function parseTurnLog(text: string): Map<string, TurnUserUsage> {
  const usage = new Map<string, TurnUserUsage>();
  const sessionUser = new Map<string, string>();
  const of = (user: string) => {
    let u = usage.get(user);
    if (!u) usage.set(user, (u = { allocations: 0, peerBindings: 0, bytes: 0 }));
    return u;
  };
  for (const line of text.split("\n")) {
    const session = /session (\d+):/.exec(line)?.[1];
    const user = /user <([^>]*)>/.exec(line)?.[1] ?? /username=<([^>]*)>/.exec(line)?.[1];
    if (session && user) sessionUser.set(session, user);
    const who = user ?? (session ? sessionUser.get(session) : undefined);
    if (!who) continue;
    if (/ALLOCATE processed, success/.test(line)) of(who).allocations++;
    else if (/(CREATE_PERMISSION|CHANNEL_BIND) processed, success/.test(line)) of(who).peerBindings++;
    const counted = /usage: .*rb=(\d+).*sb=(\d+)/.exec(line);
    if (counted) of(who).bytes += Number(counted[1]) + Number(counted[2]);
  }
  return usage;
}
