export interface ClientEgress {
  segmentBytes: number;
  playlistBytes: number;
  requests: number;
  errors: number;
  /** Requests an injected fault hit (an error status, a reset, a delay or a paced body). */
  faults: number;
  /** Segments sent whole to this client again after it had already got them whole once. */
  repeatedSegments: number;
}

export interface EgressReport extends ClientEgress {
  /** Every byte of every response body: what the CDN bill counts. */
  totalBytes: number;
  byClient: Record<string, ClientEgress>;
}

export type ResponseKind = "segment" | "playlist" | "other";

/** Counts response body bytes per client as they are handed to the socket. */
export class EgressCounter {
  private clients = new Map<string, ClientEgress>();
  /** Per client, the segment paths it got whole. */
  private delivered = new Map<string, Set<string>>();

  private client(id: string): ClientEgress {
    let entry = this.clients.get(id);
    if (!entry) {
      entry = { segmentBytes: 0, playlistBytes: 0, requests: 0, errors: 0, faults: 0, repeatedSegments: 0 };
      this.clients.set(id, entry);
    }
    return entry;
  }

  countRequest(clientId: string): void {
    this.client(clientId).requests++;
  }

  countError(clientId: string): void {
    this.client(clientId).errors++;
  }

  /** A whole segment body went out to the client (every chunk handed to the socket). */
  countSegmentDelivered(clientId: string, path: string): void {
    let paths = this.delivered.get(clientId);
    if (!paths) this.delivered.set(clientId, (paths = new Set()));
    if (paths.has(path)) this.client(clientId).repeatedSegments++;
    else paths.add(path);
  }

  countFault(clientId: string): void {
    this.client(clientId).faults++;
  }

  countBytes(clientId: string, kind: ResponseKind, bytes: number): void {
    const entry = this.client(clientId);
    if (kind === "segment") entry.segmentBytes += bytes;
    else if (kind === "playlist") entry.playlistBytes += bytes;
  }

  report(): EgressReport {
    const byClient: Record<string, ClientEgress> = {};
    const total: ClientEgress = {
      segmentBytes: 0,
      playlistBytes: 0,
      requests: 0,
      errors: 0,
      faults: 0,
      repeatedSegments: 0,
    };
    for (const [id, entry] of this.clients) {
      byClient[id] = { ...entry };
      total.segmentBytes += entry.segmentBytes;
      total.playlistBytes += entry.playlistBytes;
      total.requests += entry.requests;
      total.errors += entry.errors;
      total.faults += entry.faults;
      total.repeatedSegments += entry.repeatedSegments;
    }
    return { ...total, totalBytes: total.segmentBytes + total.playlistBytes, byClient };
  }

  reset(): void {
    this.clients.clear();
    this.delivered.clear();
  }
}
