import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DEFAULT_KEEP_PEER_DOWNLOAD,
  keepPeerDownload,
  keepUrgentPeerDownload,
  type PeerDownloadProgress,
} from "../../sdk/src/peers/keep-peer-download";
import { setHttpFallback } from "../../sdk/src/peers/http-fallback";

const KB = 1000;

/** A transfer of an 875 KB segment that started at t=0 and received `loaded` bytes by `now`. */
const transfer = (loaded: number, lastChunkAt: number) => ({
  loadedBytes: loaded,
  totalBytes: 875 * KB,
  attempt: { startTimestamp: 0, loadedBytes: loaded, lastLoadedChunkTimestamp: lastChunkAt },
});

describe("keepPeerDownload", () => {
  it("keeps a transfer that finishes with the HTTP reserve to spare", () => {
    // 700 KB in 1 s: 175 KB left take 0.25 s; needed in 2 s, 1 s reserved.
    assert.equal(keepPeerDownload(transfer(700 * KB, 990), 2, 1000), true);
  });

  it("abandons one that would eat into the reserve, or is needed sooner", () => {
    // 300 KB in 1 s: 575 KB left take 1.9 s; needed in 2 s.
    assert.equal(keepPeerDownload(transfer(300 * KB, 990), 2, 1000), false);
    // Fast enough for 2 s, not for 1.1 s.
    assert.equal(keepPeerDownload(transfer(700 * KB, 990), 1.1, 1000), false);
  });

  it("abandons a stalled transfer however far along", () => {
    assert.equal(keepPeerDownload(transfer(870 * KB, 1000 - DEFAULT_KEEP_PEER_DOWNLOAD.stalledMs - 1), 4, 1000), false);
  });

  it("does not trust the first burst, an unknown size, or a transfer with no byte yet", () => {
    assert.equal(keepPeerDownload(transfer(500 * KB, 100), 4, 100), false, "100 ms is a burst");
    assert.equal(keepPeerDownload({ ...transfer(500 * KB, 990), totalBytes: undefined }, 4, 1000), false);
    assert.equal(keepPeerDownload(transfer(0, 0), 4, 1000), false);
    assert.equal(keepPeerDownload({ ...transfer(500 * KB, 990), attempt: undefined }, 4, 1000), false);
  });

  it("reserves what this viewer's HTTP fallback takes now when that is longer than the configured reserve", () => {
    // 700 KB in 1 s: 175 KB left take 0.25 s; needed in 2 s.
    assert.equal(keepPeerDownload(transfer(700 * KB, 990), 2, 1000, DEFAULT_KEEP_PEER_DOWNLOAD, 1.5), true);
    assert.equal(keepPeerDownload(transfer(700 * KB, 990), 2, 1000, DEFAULT_KEEP_PEER_DOWNLOAD, 1.8), false);
    // A quick fallback does not shrink the configured reserve.
    assert.equal(keepPeerDownload(transfer(700 * KB, 990), 1.2, 1000, DEFAULT_KEEP_PEER_DOWNLOAD, 0.2), false);
  });

  it("keeps a transfer with nothing left to receive", () => {
    assert.equal(keepPeerDownload(transfer(875 * KB, 990), 0, 1000), true);
  });

  it("reads PML's request, segment and playback: time until needed at the playback rate", () => {
    const now = performance.now();
    const request = {
      loadedBytes: 700 * KB,
      totalBytes: 875 * KB,
      progress: { startTimestamp: now - 1000, loadedBytes: 700 * KB, lastLoadedChunkTimestamp: now - 10 },
    };
    assert.equal(keepUrgentPeerDownload(request, { startTime: 102 }, { position: 100, rate: 1 }), true);
    // At 2x the segment is needed in 1 s: under the reserve.
    assert.equal(keepUrgentPeerDownload(request, { startTime: 102 }, { position: 100, rate: 2 }), false);
    // PML's queue passes its segment store; the SDK tells by it how long this viewer's HTTP fallback takes.
    const store = {};
    assert.equal(keepUrgentPeerDownload(request, { startTime: 102 }, { position: 100, rate: 1 }, store), true);
    setHttpFallback(store, () => ({ seconds: 1.9, failing: false, failedLately: false }));
    assert.equal(keepUrgentPeerDownload(request, { startTime: 102 }, { position: 100, rate: 1 }, store), false);
    setHttpFallback(store, () => ({ seconds: undefined, failing: false, failedLately: false }));
    assert.equal(keepUrgentPeerDownload(request, { startTime: 102 }, { position: 100, rate: 1 }, store), true);
    // …and whether its CDN is failing: then even a transfer needed sooner than it can finish goes on.
    assert.equal(keepUrgentPeerDownload(request, { startTime: 101 }, { position: 100, rate: 1 }, store), false);
    setHttpFallback(store, () => ({ seconds: 1.9, failing: true, failedLately: true }));
    assert.equal(keepUrgentPeerDownload(request, { startTime: 101 }, { position: 100, rate: 1 }, store), true);
  });

  it("while this viewer's CDN is failing, keeps a moving transfer that ends in time or soon: HTTP would fail and lose it", () => {
    const failing = (progress: PeerDownloadProgress, neededInSec: number, now: number) =>
      keepPeerDownload(progress, neededInSec, now, DEFAULT_KEEP_PEER_DOWNLOAD, 1.5, true);
    // 700 KB in 1 s: 175 KB left take 0.25 s; needed in 1.1 s, under the reserve a working CDN needs.
    assert.equal(keepPeerDownload(transfer(700 * KB, 990), 1.1, 1000), false);
    assert.equal(failing(transfer(700 * KB, 990), 1.1, 1000), true);
    // Already late (needed now) but done within the reserve: a fresh transfer could not beat it.
    assert.equal(failing(transfer(700 * KB, 990), 0, 1000), true);
    // 300 KB in 1 s: 575 KB left take 1.9 s; needed in 2 s: kept. Needed in 1 s: given up for another holder.
    assert.equal(failing(transfer(300 * KB, 990), 2, 1000), true);
    assert.equal(failing(transfer(300 * KB, 990), 1, 1000), false);
    // A trickle from a holder whose uplink is taken: 40 KB in 1 s, 21 s to go.
    assert.equal(failing(transfer(40 * KB, 990), 3, 1000), false);
    // Before its rate is known (the first burst, an unknown size, no byte yet), a moving transfer goes on.
    assert.equal(failing(transfer(500 * KB, 100), 4, 100), true);
    assert.equal(failing({ ...transfer(500 * KB, 990), totalBytes: undefined }, 4, 1000), true);
    assert.equal(failing(transfer(0, 0), 4, DEFAULT_KEEP_PEER_DOWNLOAD.stalledMs), true);
    // A stalled transfer is given up all the same (PML tries another holder, or HTTP), and without
    // an attempt there is nothing to keep.
    assert.equal(failing(transfer(870 * KB, 1000 - DEFAULT_KEEP_PEER_DOWNLOAD.stalledMs - 1), 4, 1000), false);
    assert.equal(failing({ ...transfer(500 * KB, 990), attempt: undefined }, 4, 1000), false);
  });
});
