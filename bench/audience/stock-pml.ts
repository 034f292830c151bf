/**
 * Stock p2p-media-loader for the virtual viewer's `pml-defaults` mode: PML's `Core` given only
 * what a page must give it (trackers, swarm id, ICE servers), the way the Chromium viewers'
 * pml-defaults page runs PML's hls.js plugin. The simulated player feeds it through the SDK's
 * playlist glue (which mirrors that plugin), and each segment PML manages is loaded through the
 * core, the others over HTTP, as the plugin's fragment loader does. So virtual and Chromium
 * pml-defaults viewers meet in one swarm and speak stock PML to each other.
 *
 * Bundled on its own (dist/bench/stock-pml.mjs, PML inside; bench/rollup.viewer.mjs): the
 * swarmcast modes never load it.
 */
import { Core, type StreamType } from "p2p-media-loader-core";
import { CoreStreamFeeder, fetchSegment, segmentRuntimeId } from "../../sdk/src/engine/core-stream-feeder";
import { ensureNavigator } from "../../sdk/src/engine/node-runtime";
import type { LivePlayer, LoadedSegment, PlaylistSegment, Rendition } from "../../sdk/src/engine-entry";

export interface StockPmlOptions {
  trackers: string[];
  swarmId: string;
  iceServers: RTCIceServer[];
}

export interface StockPmlStats {
  httpBytes: number;
  p2pBytes: number;
  uploadedBytes: number;
  /** Peers connected on the main stream. */
  peers: number;
}

/** One loaded segment: its URL, size and where it came from. */
export interface StockSegmentEvent {
  url: string;
  bytes: number;
  source: "http" | "p2p";
}

/** How often the playhead is passed to PML (as the SDK's engine and hls.js's timeupdate do). */
const PLAYBACK_UPDATE_MS = 250;

export class StockPmlEngine {
  readonly core: Core;
  private readonly feeder: CoreStreamFeeder;
  private readonly counters: StockPmlStats = { httpBytes: 0, p2pBytes: 0, uploadedBytes: 0, peers: 0 };
  private readonly segmentListeners: ((event: StockSegmentEvent) => void)[] = [];
  private playbackTimer: ReturnType<typeof setInterval> | undefined;

  constructor(options: StockPmlOptions, onError: (message: string) => void) {
    ensureNavigator();
    this.core = new Core({
      announceTrackers: options.trackers,
      swarmId: options.swarmId,
      rtcConfig: { iceServers: options.iceServers },
    });
    this.feeder = new CoreStreamFeeder(this.core);
    const main = (streamType: StreamType) => streamType === "main";
    this.core.addEventListener("onChunkDownloaded", (bytes, source) => {
      if (source === "p2p") this.counters.p2pBytes += bytes;
      else this.counters.httpBytes += bytes;
    });
    this.core.addEventListener("onChunkUploaded", (bytes) => (this.counters.uploadedBytes += bytes));
    this.core.addEventListener("onSegmentLoaded", (details) => {
      const event = { url: details.segmentUrl, bytes: details.bytesLength, source: details.downloadSource };
      for (const listener of this.segmentListeners) listener(event);
    });
    this.core.addEventListener("onPeerConnect", ({ streamType }) => main(streamType) && this.counters.peers++);
    this.core.addEventListener(
      "onPeerClose",
      ({ streamType }) => main(streamType) && (this.counters.peers = Math.max(0, this.counters.peers - 1)),
    );
    this.core.addEventListener("onSegmentError", ({ error }) => onError(`pml onSegmentError: ${error.message}`));
    this.core.addEventListener("onPeerError", ({ error }) => onError(`pml onPeerError: ${error.message}`));
    this.core.addEventListener("onTrackerError", ({ error }) => onError(`pml onTrackerError: ${String(error)}`));
  }

  setManifest(manifestUrl: string, renditions: Rendition[]): void {
    this.feeder.setManifest(manifestUrl, renditions);
  }

  bindPlayer(player: LivePlayer): void {
    this.feeder.bind(player);
    this.playbackTimer = setInterval(() => this.feeder.updatePlayback(player), PLAYBACK_UPDATE_MS);
  }

  onSegment(listener: (event: StockSegmentEvent) => void): void {
    this.segmentListeners.push(listener);
  }

  async loadSegment(segment: PlaylistSegment): Promise<LoadedSegment> {
    const id = segmentRuntimeId(segment);
    if (!this.core.hasSegment(id) || !this.core.isSegmentLoadable(id)) return this.loadOverHttp(segment);
    const response = await new Promise<{ data: ArrayBuffer; bandwidth: number }>((resolve, reject) => {
      void this.core.loadSegment(id, { onSuccess: resolve, onError: reject }).catch(reject);
    });
    return { data: response.data, bandwidthBps: response.bandwidth };
  }

  stats(): StockPmlStats {
    return { ...this.counters };
  }

  destroy(): void {
    if (this.playbackTimer !== undefined) clearInterval(this.playbackTimer);
    this.feeder.unbind();
    this.core.destroy();
  }

  /** A segment PML does not manage: hls.js's own loader fetches it, counted as HTTP. */
  private async loadOverHttp(segment: PlaylistSegment): Promise<LoadedSegment> {
    const loaded = await fetchSegment(segment);
    this.counters.httpBytes += loaded.data.byteLength;
    for (const listener of this.segmentListeners)
      listener({ url: segment.url, bytes: loaded.data.byteLength, source: "http" });
    return loaded;
  }
}
