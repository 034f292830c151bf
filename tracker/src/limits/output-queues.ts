/**
 * Output that clients have not read yet. Each socket may hold `maxQueuedBytes` unsent (checked
 * on every send, so a frame never lands on a queue already over it), its queue must drain within
 * `queueDrainTimeout`, and all queues together stay under `maxTotalQueuedBytes` (the largest are
 * closed first). Only sockets whose last write did not complete are watched, so the periodic
 * check costs nothing for clients that read.
 */
import type { Connection } from "../connection";

export interface OutputLimits {
  maxQueuedBytes: number;
  maxTotalQueuedBytes: number;
  /** Seconds; 0 = no limit. */
  queueDrainTimeout: number;
}

export class OutputQueues {
  /** Sockets with unsent bytes at their last flush, and since when (ms). */
  private readonly backlog = new Map<Connection, number>();
  /** Sockets closed for not reading. */
  closed = 0;
  /** Unsent bytes of all watched sockets at the last check. */
  totalQueued = 0;

  constructor(readonly limits: OutputLimits) {}

  get watched(): number {
    return this.backlog.size;
  }

  /** After a socket's frames were written: watch it if some of them are still unsent. */
  noteFlushed(conn: Connection): void {
    if (conn.stream.writableLength > 0 && !this.backlog.has(conn)) this.backlog.set(conn, Date.now());
  }

  /** Closes a socket that did not read its output. */
  cut(conn: Connection): void {
    this.closed++;
    this.backlog.delete(conn);
    conn.terminate();
  }

  forget(conn: Connection): void {
    this.backlog.delete(conn);
  }

  /** Drops drained sockets, closes those over their time, then the largest while over the total. */
  check(nowMs = Date.now()): void {
    const timeoutMs = this.limits.queueDrainTimeout * 1000;
    let total = 0;
    for (const [conn, since] of this.backlog) {
      const queued = conn.isOpen ? conn.stream.writableLength : 0;
      if (queued === 0) this.backlog.delete(conn);
      else if (timeoutMs > 0 && nowMs - since > timeoutMs) this.cut(conn);
      else total += queued;
    }
    if (total > this.limits.maxTotalQueuedBytes) {
      const largest = [...this.backlog.keys()].sort((a, b) => b.stream.writableLength - a.stream.writableLength);
      for (const conn of largest) {
        if (total <= this.limits.maxTotalQueuedBytes) break;
        total -= conn.stream.writableLength;
        this.cut(conn);
      }
    }
    this.totalQueued = total;
  }
}
