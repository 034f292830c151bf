// A WebTorrent tracker on loopback for the SDK's browser tests: bittorrent-tracker's server,
// the protocol reference our tracker is tested against.
import type { AddressInfo } from "node:net";

// bittorrent-tracker ships no types; a non-literal specifier keeps the import untyped.
const SERVER_MODULE = "bittorrent-tracker/server";

export interface TestTracker {
  /** ws://127.0.0.1:PORT */
  url: string;
  close(): Promise<void>;
}

export async function startTestTracker(): Promise<TestTracker> {
  const { default: Server } = await import(SERVER_MODULE);
  const server = new Server({ udp: false, http: false, ws: true, stats: false });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = (server.ws as { address(): AddressInfo }).address();
  return {
    url: `ws://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
