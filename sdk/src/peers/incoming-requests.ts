import { PEER_COMMAND, type PeerCommand } from "./peer-commands";

/** How long a request seen on the wire waits for PML's store read that answers it, ms. */
const PAIRING_MS = 1000;

interface SeenRequest {
  channel: RTCDataChannel;
  segmentId: number;
  requestId: number;
  at: number;
  controller: AbortController;
}

/**
 * The segment requests peers sent this viewer, for an upload that waits its turn: PML reads
 * its store for a peer without saying which peer asks, so each read is paired with the oldest
 * recent request for that segment seen on the wire (PML reads in the order requests arrive),
 * and the read gets a signal that aborts when that peer stops waiting — it cancels the
 * request, asks for something else (a PML peer downloads one segment at a time), or its
 * channel closes.
 */
export class IncomingRequests {
  /** Requests not paired with a store read yet, oldest first. */
  private unpaired: SeenRequest[] = [];
  /** Requests paired with a read, by channel, until the peer asks for the next one. */
  private readonly open = new Map<RTCDataChannel, SeenRequest[]>();
  private readonly watched = new WeakSet<RTCDataChannel>();

  constructor(private readonly clock: () => number = () => Date.now()) {}

  /** A command arrived on `channel` (the peer connection guard's `onPeerCommand`). */
  readonly onPeerCommand = (channel: RTCDataChannel, command: PeerCommand): void => {
    const { i: segmentId, r: requestId } = command.fields;
    if (command.type === PEER_COMMAND.segmentRequest) {
      if (segmentId === undefined || requestId === undefined) return;
      this.abortChannel(channel);
      this.watchClose(channel);
      const now = this.clock();
      this.unpaired = this.unpaired.filter((seen) => now - seen.at <= PAIRING_MS && seen.channel !== channel);
      this.unpaired.push({ channel, segmentId, requestId, at: now, controller: new AbortController() });
    } else if (command.type === PEER_COMMAND.cancelSegmentRequest) {
      for (const seen of [...(this.open.get(channel) ?? []), ...this.unpaired]) {
        if (seen.channel === channel && seen.requestId === requestId) this.abort(seen);
      }
    }
  };

  /**
   * PML reads segment `segmentId` for a peer: the signal of the request it answers, or
   * undefined when none was seen (the read then cannot be called off).
   */
  take(segmentId: number): AbortSignal | undefined {
    const now = this.clock();
    this.unpaired = this.unpaired.filter((seen) => now - seen.at <= PAIRING_MS);
    const index = this.unpaired.findIndex((seen) => seen.segmentId === segmentId);
    if (index < 0) return undefined;
    const [seen] = this.unpaired.splice(index, 1);
    const list = this.open.get(seen.channel) ?? [];
    list.push(seen);
    this.open.set(seen.channel, list);
    return seen.controller.signal;
  }

  private abortChannel(channel: RTCDataChannel): void {
    for (const seen of this.open.get(channel) ?? []) seen.controller.abort();
    this.open.delete(channel);
  }

  private abort(seen: SeenRequest): void {
    seen.controller.abort();
    this.unpaired = this.unpaired.filter((other) => other !== seen);
    const list = this.open.get(seen.channel)?.filter((other) => other !== seen);
    if (list && list.length > 0) this.open.set(seen.channel, list);
    else this.open.delete(seen.channel);
  }

  private watchClose(channel: RTCDataChannel): void {
    if (this.watched.has(channel)) return;
    this.watched.add(channel);
    channel.addEventListener("close", () => {
      this.abortChannel(channel);
      this.unpaired = this.unpaired.filter((seen) => seen.channel !== channel);
    });
  }
}
