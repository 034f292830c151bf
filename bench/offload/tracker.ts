import type { AddressInfo } from "node:net";
import type { TrackerKind } from "./options.js";

export interface BenchTracker {
  kind: TrackerKind;
  /** ws://127.0.0.1:port */
  url: string;
  close(): Promise<void>;
}

/** The part of bittorrent-tracker's server the bench uses; the package ships no types. */
interface ReferenceTrackerServer {
  on(event: "error" | "warning", listener: (error: unknown) => void): void;
  listen(port: number, host: string, onListening: () => void): void;
  close(onClosed: () => void): void;
  ws: { address(): AddressInfo | string | null };
}

interface ReferenceTrackerModule {
  default: new (options: { udp: boolean; http: boolean; ws: boolean; stats: boolean }) => ReferenceTrackerServer;
}

/** Starts the tracker the viewers announce to, on loopback. */
export async function startBenchTracker(kind: TrackerKind): Promise<BenchTracker> {
  if (kind === "swarmcast") {
    const { startTracker } = await import("../../tracker/src/index.js");
    const tracker = await startTracker({ host: "127.0.0.1", port: 0, logLevel: "warn" });
    return { kind, url: tracker.url, close: () => tracker.close() };
  }
  // The reference implementation of the protocol.
  // bittorrent-tracker ships no types; a computed specifier keeps the import untyped.
  const specifier = "bittorrent-tracker/server";
  const { default: Server } = (await import(specifier)) as ReferenceTrackerModule;
  const server = new Server({ udp: false, http: false, ws: true, stats: false });
  // Per-client protocol errors arrive here; they must not take the bench down.
  server.on("error", () => undefined);
  server.on("warning", () => undefined);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.ws.address() as AddressInfo;
  return {
    kind,
    url: `ws://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
