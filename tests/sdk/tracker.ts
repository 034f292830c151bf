// The tracker the SDK's browser tests announce to: ours, on loopback, quiet.
import { startTracker } from "../../tracker/src/index";

export interface TestTracker {
  /** ws://127.0.0.1:PORT */
  url: string;
  /** WebSocket connections open now. */
  connections(): number;
  close(): Promise<void>;
}

/** With a `secret`, the tracker is private: clients need a token minted with it. */
export async function startTestTracker({ secret = "" }: { secret?: string } = {}): Promise<TestTracker> {
  const tracker = await startTracker({ host: "127.0.0.1", port: 0, logLevel: "silent", secret });
  return { url: tracker.url, connections: () => tracker.stats().connections, close: () => tracker.close() };
}
