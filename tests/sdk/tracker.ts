// The tracker the SDK's browser tests announce to: ours, on loopback, quiet.
import { startTracker } from "../../tracker/src/index";

export interface TestTracker {
  /** ws://127.0.0.1:PORT */
  url: string;
  /** WebSocket connections open now. */
  connections(): number;
  close(): Promise<void>;
}

export async function startTestTracker(): Promise<TestTracker> {
  const tracker = await startTracker({ host: "127.0.0.1", port: 0, logLevel: "silent" });
  return { url: tracker.url, connections: () => tracker.stats().connections, close: () => tracker.close() };
}
