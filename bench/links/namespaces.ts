import { execFileSync, spawnSync } from "node:child_process";
import type { ViewerLink } from "./profile";

/** One viewer's network: its namespace, its address and its link. */
export interface ViewerNetwork {
  /** Network namespace name (`ip netns exec <name> …`). */
  namespace: string;
  address: string;
  link: ViewerLink;
}

/**
 * Emulated links: every viewer in its own network namespace, joined to a hub namespace's bridge
 * by a veth pair. `tc tbf` caps the uplink on the viewer's end of the pair and the downlink on
 * the hub's end, so each direction queues where a home link queues. The bench process stays in
 * its own namespace and reaches the bridge at `hubAddress` through one more veth pair: servers
 * (origin, tracker, page server) listen there.
 */
export interface LinkLab {
  readonly prefix: string;
  readonly hubAddress: string;
  readonly viewers: ViewerNetwork[];
  /** Bytes each viewer's link has carried so far, read from the token buckets' counters. */
  linkBytes(index: number): { sentBytes: number; receivedBytes: number };
  /** Removes every namespace and interface the lab created. Idempotent. */
  close(): void;
}

/** The "Sent N bytes" counter of the root qdisc of `dev` in `ns`. */
function qdiscSentBytes(ns: string, dev: string): number {
  const out = execFileSync("tc", ["-n", ns, "-s", "qdisc", "show", "dev", dev], { encoding: "utf8" });
  return Number(/Sent (\d+) bytes/.exec(out)?.[1] ?? NaN);
}

const SUBNET_PREFIX = "10.77";

function run(command: string, args: string[]): void {
  execFileSync(command, args, { stdio: ["ignore", "ignore", "pipe"] });
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

export function createLinkLab(links: ViewerLink[], prefix = `sc${process.pid % 100000}`): LinkLab {
  if (links.length > 250 * 200) throw new Error("createLinkLab: too many viewers");
  const hub = `${prefix}hub`;
  const rootSide = `${prefix}r`;
  const namespaces: string[] = [];
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    for (const ns of [...namespaces].reverse()) spawnSync("ip", ["netns", "del", ns], { stdio: "ignore" });
    spawnSync("ip", ["link", "del", rootSide], { stdio: "ignore" });
  };
  const onExit = () => close();
  process.once("exit", onExit);
  try {
    run("ip", ["netns", "add", hub]);
    namespaces.push(hub);
    // `ip -batch` takes no -n: one batch per namespace, in order (root creates the pairs).
    const rootBatch = [
      `link add ${rootSide} type veth peer name ${prefix}rh netns ${hub}`,
      `addr add ${SUBNET_PREFIX}.0.1/16 dev ${rootSide}`,
      `link set ${rootSide} up`,
    ];
    const hubBatch = [
      "link set lo up",
      "link add br0 type bridge",
      "link set br0 up",
      `link set ${prefix}rh master br0`,
      `link set ${prefix}rh up`,
    ];
    const viewerBatches = new Map<string, string[]>();
    const viewers: ViewerNetwork[] = links.map((link, i) => {
      const ns = `${prefix}v${i}`;
      run("ip", ["netns", "add", ns]);
      namespaces.push(ns);
      const address = addressOf(i);
      rootBatch.push(`link add ${prefix}e${i} netns ${ns} type veth peer name ${prefix}h${i} netns ${hub}`);
      hubBatch.push(`link set ${prefix}h${i} master br0`, `link set ${prefix}h${i} up`);
      viewerBatches.set(ns, [
        "link set lo up",
        `link set ${prefix}e${i} name eth0`,
        `addr add ${address}/16 dev eth0`,
        "link set eth0 up",
      ]);
      return { namespace: ns, address, link };
    });
    const batch = (lines: string[], ns?: string) =>
      execFileSync("ip", [...(ns ? ["-n", ns] : []), "-batch", "-"], {
        input: lines.join("\n") + "\n",
        stdio: ["pipe", "ignore", "pipe"],
      });
    batch(rootBatch);
    batch(hubBatch, hub);
    for (const [ns, lines] of viewerBatches) batch(lines, ns);
    for (const [i, v] of viewers.entries()) {
      run("tc", ["-n", v.namespace, "qdisc", "add", "dev", "eth0", "root", ...tbfArgs(v.link.uplinkMbps)]);
      run("tc", ["-n", hub, "qdisc", "add", "dev", `${prefix}h${i}`, "root", ...tbfArgs(v.link.downlinkMbps)]);
    }
    return {
      prefix,
      hubAddress: `${SUBNET_PREFIX}.0.1`,
      viewers,
      linkBytes: (index) => ({
        sentBytes: qdiscSentBytes(viewers[index].namespace, "eth0"),
        receivedBytes: qdiscSentBytes(hub, `${prefix}h${index}`),
      }),
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

/** Whether this process may create network namespaces (root on Linux with iproute2). */
export function canCreateNamespaces(): boolean {
  if (process.platform !== "linux" || process.getuid?.() !== 0) return false;
  const probe = `scprobe${process.pid % 100000}`;
  const ok = spawnSync("ip", ["netns", "add", probe], { stdio: "ignore" }).status === 0;
  if (ok) spawnSync("ip", ["netns", "del", probe], { stdio: "ignore" });
  return ok;
}
