/**
 * Open WebSocket connections per client IP, and the IP's shared byte budget. An entry exists
 * only while the IP has at least one socket that completed its handshake, so the table is
 * never larger than the number of open connections, whatever refused requests claim to be.
 */

/** One IP's open sockets and its token bucket of payload bytes (shared by those sockets). */
export class IpEntry {
  connections = 0;
  /** Bytes the IP may still send now. */
  byteTokens: number;
  /** Milliseconds (tracker core clock) of the last refill. */
  byteTokensAt = 0;

  constructor(
    readonly ip: string,
    burst: number,
  ) {
    this.byteTokens = burst;
  }
}

export class IpTable {
  private readonly entries = new Map<string, IpEntry>();

  constructor(private readonly byteBurst: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** Sockets open from this IP now. */
  openCount(ip: string): number {
    return this.entries.get(ip)?.connections ?? 0;
  }

  /** A socket from `ip` completed its handshake. */
  opened(ip: string, nowMs: number): IpEntry {
    let entry = this.entries.get(ip);
    if (entry === undefined) {
      entry = new IpEntry(ip, this.byteBurst);
      entry.byteTokensAt = nowMs;
      this.entries.set(ip, entry);
    }
    entry.connections++;
    return entry;
  }

  /** That socket closed (called once per socket {@link opened} returned an entry for). */
  closed(entry: IpEntry): void {
    if (--entry.connections <= 0 && this.entries.get(entry.ip) === entry) this.entries.delete(entry.ip);
  }
}
