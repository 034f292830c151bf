/**
 * Byte budgets are enforced by reading less, not by refusing what was read: a connection (or an
 * IP) in debt has its socket paused until the budget refills, so TCP flow control holds the
 * sender back and the tracker spends nothing on bytes it is not ready for. One timer serves all
 * paused sockets and runs only while some are paused.
 */
import type { Connection } from "../connection";

const TICK_MS = 25;

export class ReadThrottle {
  private readonly paused = new Set<Connection>();
  private timer: NodeJS.Timeout | null = null;
  /** Times a socket was paused. */
  pauses = 0;

  get size(): number {
    return this.paused.size;
  }

  /** Stops reading from `conn` for `ms` milliseconds (or longer, if already paused longer). */
  pause(conn: Connection, ms: number): void {
    const until = Date.now() + ms;
    if (this.paused.has(conn)) {
      if (until > conn.resumeAt) conn.resumeAt = until;
      return;
    }
    conn.resumeAt = until;
    conn.ws.pause();
    this.paused.add(conn);
    this.pauses++;
    this.timer ??= setInterval(this.tick, TICK_MS).unref();
  }

  forget(conn: Connection): void {
    this.paused.delete(conn);
  }

  private readonly tick = (): void => {
    const now = Date.now();
    for (const conn of this.paused) {
      if (conn.resumeAt > now) continue;
      this.paused.delete(conn);
      if (conn.isOpen) conn.ws.resume();
    }
    if (this.paused.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  };

  clear(): void {
    this.paused.clear();
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
