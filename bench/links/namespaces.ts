import { execFile, execFileSync, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { startDelayLine, type DelayLine, type DelayLineStats } from "./delay-line";
import type { NatKind, ViewerLink } from "./profile";
import { startTurnServer, type IceServer, type TurnServer, type TurnUserUsage } from "./turn";

/** One viewer's network: its namespace, its address and its link. */
export interface ViewerNetwork {
  /** Network namespace name (`ip netns exec <name> …`): where the viewer's process runs. */
  namespace: string;
  /** The viewer's address on the hub: its own, or its NAT router's public one. */
  address: string;
  link: ViewerLink;
  /** Set when the viewer sits behind NAT. */
  nat?: {
    kind: NatKind;
    /** The namespace of the viewer's home router: MASQUERADE and the uplink cap live there. */
    routerNamespace: string;
    /** The viewer's address behind the router. */
    privateAddress: string;
  };
}

/** What a lab emulates beyond the rate caps; everything a link asks for, by default. */
export interface LinkLabOptions {
  /** Round-trip time from each link's `oneWayDelayMs` and `cdnRttMs` (the delay line). */
  delay?: boolean;
  /** NAT for the links `behindNat`. */
  nat?: boolean;
  /** coturn in the hub as STUN/TURN server; by default when a viewer is behind NAT. */
  turn?: boolean;
  /**
   * Loopback up in the viewers' namespaces; by default only without TURN. libwebrtc (wrtc)
   * gathers candidates on 127.0.0.1 and ::1 too, and their STUN requests, which can never be
   * answered, hold ICE gathering for 40 s.
   */
  loopback?: boolean;
}

/**
 * Emulated links: every viewer in its own network namespace, joined to a hub namespace's bridge
 * by a veth pair. `tc tbf` caps the uplink on the viewer's end of the pair and the downlink on
 * the hub's end, so each direction queues where a home link queues. The bench process stays in
 * its own namespace and reaches the bridge at `hubAddress` through one more veth pair: servers
 * (origin, tracker, page server) listen there. A delay line holds what each viewer receives for
 * its share of the round trip; viewers behind NAT sit in a namespace behind their own router
 * namespace; coturn listens in the hub at `turnAddress`.
 */
export interface LinkLab {
  readonly prefix: string;
  readonly hubAddress: string;
  /** The STUN/TURN server's address (in the hub namespace). */
  readonly turnAddress: string;
  readonly viewers: ViewerNetwork[];
  /**
   * Resolves when the delay line holds packets and the TURN server answers. Before, packets
   * pass undelayed (the queue rules let traffic through while nobody listens).
   */
  readonly ready: Promise<void>;
  /** Bytes each viewer's link has carried so far, read from the token buckets' counters. */
  linkBytes(index: number): { sentBytes: number; receivedBytes: number };
  /**
   * Every viewer's link counters at once, without blocking this process: one `tc` per
   * namespace, all in parallel. `upAt` / `downAt` (performance.now(), ms) are the midpoints of
   * the reads that gave each figure.
   */
  readLinks(): Promise<{ sentBytes: number; receivedBytes: number; upAt: number; downAt: number }[]>;
  /** What viewer `index` passes as `iceServers`: STUN and TURN with its own credentials, or [] without TURN. */
  iceServers(index: number): IceServer[];
  /** TURN use per viewer index, from coturn's log (zeros for viewers it never saw). */
  turnUsage(): TurnUserUsage[];
  /** The delay line's counters and CPU seconds, or undefined when no link has a delay. */
  delayLineStats(): Promise<(DelayLineStats & { cpuSeconds: number; pid: number }) | undefined>;
  /** Removes every namespace and interface the lab created and stops its processes. Idempotent. */
  close(): void;
}

/** "Sent N bytes" of every root qdisc in `ns`, by device, and when they were read (midpoint, ms). */
async function readQdiscs(ns: string): Promise<{ bytes: Map<string, number>; at: number }> {
  const started = performance.now();
  const { stdout } = await execFileAsync("tc", ["-n", ns, "-s", "qdisc", "show"], { encoding: "utf8" });
  const at = (started + performance.now()) / 2;
  const bytes = new Map<string, number>();
  for (const block of stdout.split(/\n(?=qdisc )/)) {
    const dev = / dev (\S+) root/.exec(block)?.[1];
    const sent = /Sent (\d+) bytes/.exec(block)?.[1];
    if (dev && sent) bytes.set(dev, Number(sent));
  }
  return { bytes, at };
}

/** The "Sent N bytes" counter of the root qdisc of `dev` in `ns`. */
function qdiscSentBytes(ns: string, dev: string): number {
  const out = execFileSync("tc", ["-n", ns, "-s", "qdisc", "show", "dev", dev], { encoding: "utf8" });
  return Number(/Sent (\d+) bytes/.exec(out)?.[1] ?? NaN);
}

const execFileAsync = promisify(execFile);

const SUBNET_PREFIX = "10.77";
const HUB_ADDRESS = `${SUBNET_PREFIX}.0.1`;
const TURN_ADDRESS = `${SUBNET_PREFIX}.0.2`;
/** Every home network behind NAT uses the same private range, as home routers do. */
const HOME_ROUTER = "192.168.1.1";
const HOME_VIEWER = "192.168.1.2";

function run(command: string, args: string[]): void {
  execFileSync(command, args, { stdio: ["ignore", "ignore", "pipe"] });
}

/** Runs a shell line inside `ns` (one process for several iptables/sysctl steps). */
function inNamespace(ns: string, script: string): void {
  run("ip", ["netns", "exec", ns, "sh", "-ec", script]);
}

function addressOf(index: number): string {
  return `${SUBNET_PREFIX}.${1 + Math.floor(index / 250)}.${(index % 250) + 1}`;
}

/**
 * A token bucket at `mbps`: a burst of 10 ms of traffic (at least 16 KB, what the kernel needs
 * to reach the rate at HZ 250) and a queue of 100 ms before drops.
 */
function tbfArgs(mbps: number): string[] {
  const bytesPerSecond = (mbps * 1e6) / 8;
  const burst = Math.max(16_384, Math.round(bytesPerSecond / 100));
  return ["tbf", "rate", `${Math.round(mbps * 1000)}kbit`, "burst", String(burst), "latency", "100ms"];
}

/**
 * Holds what arrives on eth0 in the delay line's queue 0. `--queue-bypass` lets packets through
 * while no delay line listens (before it binds), instead of dropping them.
 */
const DELAY_RULE = "iptables -t mangle -A PREROUTING -i eth0 -j NFQUEUE --queue-num 0 --queue-bypass";

/**
 * The home router's NAT. It drops whatever arrives unsolicited for itself, as home routers do:
 * an unsolicited packet would otherwise leave a conntrack entry behind whose tuple clashes with
 * the mapping of the router's own next packet to that sender, and MASQUERADE would give that
 * one a new port, which breaks hole punching even without `--random-fully`.
 */
function natRules(kind: NatKind): string[] {
  return [
    `iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE${kind === "symmetric" ? " --random-fully" : ""}`,
    "iptables -A INPUT -i eth0 -j DROP",
  ];
}

export function createLinkLab(
  links: ViewerLink[],
  prefix = `sc${process.pid % 100000}`,
  options: LinkLabOptions = {},
): LinkLab {
  if (links.length > 250 * 200) throw new Error("createLinkLab: too many viewers");
  const useNat = options.nat ?? true;
  const useDelay = (options.delay ?? true) && links.some((l) => l.oneWayDelayMs > 0 || (l.cdnRttMs ?? 0) > 0);
  const useTurn = options.turn ?? (useNat && links.some((l) => l.behindNat));
  const viewerLoopback = options.loopback ?? !useTurn;
  const loopbackLine = `link set lo ${viewerLoopback ? "up" : "down"}`;
  const hub = `${prefix}hub`;
  const rootSide = `${prefix}r`;
  const namespaces: string[] = [];
  let delayLine: DelayLine | undefined;
  let turn: TurnServer | undefined;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    delayLine?.close();
    turn?.close();
    // One `ip` process removes everything: a bench killed while tearing down (a wrapper's second
    // signal) would otherwise leave the namespaces it had not reached yet.
    const teardown = [...namespaces].reverse().map((ns) => `netns del ${ns}`);
    teardown.push(`link del ${rootSide}`);
    spawnSync("ip", ["-force", "-batch", "-"], {
      input: teardown.join("\n") + "\n",
      stdio: ["pipe", "ignore", "ignore"],
    });
  };
  const onExit = () => close();
  process.once("exit", onExit);
  try {
    run("ip", ["netns", "add", hub]);
    namespaces.push(hub);
    // `ip -batch` takes no -n: one batch per namespace, in order (root creates the pairs).
    const rootBatch = [
      `link add ${rootSide} type veth peer name ${prefix}rh netns ${hub}`,
      `addr add ${HUB_ADDRESS}/16 dev ${rootSide}`,
      `link set ${rootSide} up`,
    ];
    const hubBatch = [
      "link set lo up",
      "link add br0 type bridge",
      `addr add ${TURN_ADDRESS}/16 dev br0`,
      "link set br0 up",
      `link set ${prefix}rh master br0`,
      `link set ${prefix}rh up`,
    ];
    const batches = new Map<string, string[]>();
    /** Namespace → shell steps (iptables, sysctl) once the interfaces exist. */
    const scripts = new Map<string, string[]>();
    /** Where each viewer's uplink cap sits (its router's namespace when behind NAT). */
    const uplinkNamespaces: string[] = [];
    const viewers: ViewerNetwork[] = links.map((link, i) => {
      const ns = `${prefix}v${i}`;
      run("ip", ["netns", "add", ns]);
      namespaces.push(ns);
      const address = addressOf(i);
      hubBatch.push(`link set ${prefix}h${i} master br0`, `link set ${prefix}h${i} up`);
      const kind: NatKind = link.natKind ?? "symmetric";
      if (useNat && link.behindNat) {
        const router = `${prefix}n${i}`;
        run("ip", ["netns", "add", router]);
        namespaces.push(router);
        rootBatch.push(
          `link add ${prefix}e${i} netns ${router} type veth peer name ${prefix}h${i} netns ${hub}`,
          `link add ${prefix}l${i} netns ${ns} type veth peer name ${prefix}g${i} netns ${router}`,
        );
        batches.set(router, [
          "link set lo up",
          `link set ${prefix}e${i} name eth0`,
          `addr add ${address}/16 dev eth0`,
          "link set eth0 up",
          `link set ${prefix}g${i} name lan0`,
          `addr add ${HOME_ROUTER}/24 dev lan0`,
          "link set lan0 up",
        ]);
        batches.set(ns, [
          loopbackLine,
          `link set ${prefix}l${i} name eth0`,
          `addr add ${HOME_VIEWER}/24 dev eth0`,
          "link set eth0 up",
          `route add default via ${HOME_ROUTER}`,
        ]);
        scripts.set(router, ["echo 1 > /proc/sys/net/ipv4/ip_forward", ...natRules(kind)]);
        uplinkNamespaces.push(router);
        return {
          namespace: ns,
          address,
          link,
          nat: { kind, routerNamespace: router, privateAddress: HOME_VIEWER },
        };
      }
      rootBatch.push(`link add ${prefix}e${i} netns ${ns} type veth peer name ${prefix}h${i} netns ${hub}`);
      batches.set(ns, [
        loopbackLine,
        `link set ${prefix}e${i} name eth0`,
        `addr add ${address}/16 dev eth0`,
        "link set eth0 up",
      ]);
      uplinkNamespaces.push(ns);
      return { namespace: ns, address, link };
    });
    if (useDelay) for (const v of viewers) scripts.set(v.namespace, [...(scripts.get(v.namespace) ?? []), DELAY_RULE]);
    const batch = (lines: string[], ns?: string) =>
      execFileSync("ip", [...(ns ? ["-n", ns] : []), "-batch", "-"], {
        input: lines.join("\n") + "\n",
        stdio: ["pipe", "ignore", "pipe"],
      });
    batch(rootBatch);
    batch(hubBatch, hub);
    for (const [ns, lines] of batches) batch(lines, ns);
    for (const [i, v] of viewers.entries()) {
      run("tc", ["-n", uplinkNamespaces[i], "qdisc", "add", "dev", "eth0", "root", ...tbfArgs(v.link.uplinkMbps)]);
      run("tc", ["-n", hub, "qdisc", "add", "dev", `${prefix}h${i}`, "root", ...tbfArgs(v.link.downlinkMbps)]);
    }
    for (const [ns, steps] of scripts) inNamespace(ns, steps.join("\n"));

    const ready = Promise.all([
      useDelay
        ? startDelayLine(
            HUB_ADDRESS,
            viewers.map((v) => ({
              namespace: v.namespace,
              cdnDelayMs: v.link.cdnRttMs ?? 0,
              peerDelayMs: v.link.oneWayDelayMs,
            })),
          ).then((line) => {
            if (closed) line.close();
            else delayLine = line;
          })
        : undefined,
      useTurn
        ? startTurnServer(
            hub,
            TURN_ADDRESS,
            viewers.map((_, i) => turnUser(i)),
          ).then((server) => {
            if (closed) server.close();
            else turn = server;
          })
        : undefined,
    ]).then(() => undefined);
    // A caller that never awaits `ready` still gets the failure on close, not as an unhandled rejection.
    ready.catch(() => undefined);
    return {
      prefix,
      hubAddress: HUB_ADDRESS,
      turnAddress: TURN_ADDRESS,
      viewers,
      ready,
      linkBytes: (index) => ({
        sentBytes: qdiscSentBytes(uplinkNamespaces[index], "eth0"),
        receivedBytes: qdiscSentBytes(hub, `${prefix}h${index}`),
      }),
      async readLinks() {
        const [down, ...ups] = await Promise.all([hub, ...uplinkNamespaces].map((ns) => readQdiscs(ns)));
        return viewers.map((_, i) => ({
          sentBytes: ups[i].bytes.get("eth0") ?? NaN,
          receivedBytes: down.bytes.get(`${prefix}h${i}`) ?? NaN,
          upAt: ups[i].at,
          downAt: down.at,
        }));
      },
      iceServers: (index) => (turn ? turn.iceServers(turnUser(index)) : []),
      turnUsage() {
        const usage = turn?.usage() ?? new Map<string, TurnUserUsage>();
        return viewers.map((_, i) => usage.get(turnUser(i)) ?? { allocations: 0, peerBindings: 0, bytes: 0 });
      },
      async delayLineStats() {
        if (!delayLine) return undefined;
        return { ...(await delayLine.stats()), cpuSeconds: delayLine.cpuSeconds(), pid: delayLine.pid };
      },
      close() {
        process.off("exit", onExit);
        close();
      },
    };
  } catch (error) {
    process.off("exit", onExit);
    close();
    throw error;
  }
}

/** The TURN user name of viewer `index`: coturn's log names who relayed. */
function turnUser(index: number): string {
  return `v${index}`;
}

/** Whether this process may create network namespaces (root on Linux with iproute2). */
export function canCreateNamespaces(): boolean {
  if (process.platform !== "linux" || process.getuid?.() !== 0) return false;
  const probe = `scprobe${process.pid % 100000}`;
  const ok = spawnSync("ip", ["netns", "add", probe], { stdio: "ignore" }).status === 0;
  if (ok) spawnSync("ip", ["netns", "del", probe], { stdio: "ignore" });
  return ok;
}
