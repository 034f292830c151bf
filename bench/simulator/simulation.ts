/**
 * A discrete-event model of one live swarm: viewers on home links, the CDN, and the SDK's live
 * decisions taken from the SDK itself (its engine build): when to fetch a new segment from the
 * CDN early (`edgeFetchDelaySec`), when it turns urgent (`secondsUntilUrgent`), whether an urgent
 * peer download goes on (`keepPeerDownload`), whether a holder admits a request
 * (`UplinkBudget.fits`), when latency grows (`AdaptiveLatency`) and which peer connection a
 * full set gives up (`connectionToDrop`).
 *
 * What it models, per viewer and segment: the playlist reload that lists the segment (hls.js's
 * schedule: one target duration apart, at the phase the viewer joined on); the early-fetch draw;
 * announcements to connected peers, which pull from a random holder over the holder's uplink,
 * one upload at a time; refusals, the second draw after one, and retries at PML's queue pace;
 * the urgent moment and PML's HTTP fetch then; the playhead, stalls and latency steps; with
 * peer choice, the connection a full set closes and the random introduction that fills the slot.
 * What it leaves out: ABR (one rendition), churn, NAT and TURN, downlink sharing, CPU, packet
 * loss, and PML's limit of simultaneous peer downloads. bench/simulator/README.md compares it
 * with the audience bench.
 */
import type * as SdkEngine from "../../sdk/src/engine-entry";
import { renditionBound } from "../audience/bound";
import { assignLinks, type LinkProfile } from "../links/profile";
import { mulberry32 } from "../tracker-load/zipf";
import { EventQueue } from "./event-queue";

type Sdk = typeof SdkEngine;

export interface SimulationConfig {
  viewers: number;
  links: LinkProfile;
  bitrateBps: number;
  segmentSec: number;
  /** hls.js `liveSyncDurationCount`: segments behind the live edge at start. */
  liveSyncCount: number;
  /** The SDK's adaptive latency (one segment more when the swarm needs it). */
  adaptiveLatency: boolean;
  /** Peer connections per viewer, at most. */
  maxPeers: number;
  /** Viewers join spread over this many seconds. */
  joinSpreadSec: number;
  /** Seconds from the first join to the start of the measured window. */
  warmupSec: number;
  /** Length of the measured window, seconds. */
  steadySec: number;
  seed: number;
  /** `liveEdge.seedCopies`; undefined: the SDK's default. */
  seedCopies?: number;
  /**
   * `liveEdge.relayMinCopies`: a viewer whose uplink sends at least this many copies of a segment
   * in time announces a segment it is pulling once the holder admits its request, and serves it
   * once the bytes are in (0: never); undefined: the SDK's default.
   */
  relayMinCopies?: number;
  /** `peerChoice`; undefined: the SDK's default. */
  peerChoice?: boolean;
}

export const DEFAULT_SIMULATION: Omit<SimulationConfig, "links"> = Object.freeze({
  viewers: 100,
  bitrateBps: 1_600_000,
  segmentSec: 2,
  liveSyncCount: 3,
  adaptiveLatency: true,
  maxPeers: 20,
  joinSpreadSec: 10,
  warmupSec: 40,
  steadySec: 120,
  seed: 1,
});

/** PML's queue runs a pass about this often: a refused request is retried on the next one. */
const PML_PASS_SEC = 1;
/** Seconds between checks of an urgent peer download that goes on. */
const KEEP_CHECK_SEC = 0.25;
/** hls.js's first segment load before playback starts, seconds (the bench measures 0.1–0.2 s). */
const STARTUP_SEC = 0.15;

const UNKNOWN = 0;
const WAITING = 1;
const PULLING = 2;
const CDN_FETCH = 3;
const HAVE = 4;

export interface ViewerResult {
  uplinkMbps: number;
  cdnBytes: number;
  peerBytes: number;
  uploadedBytes: number;
  stalls: number;
  stalledSec: number;
  latencySteps: number;
  outcomes: { peer: number; seed: number; late: number };
}

export interface SimulationResult {
  config: Omit<SimulationConfig, "links"> & { links: string };
  /** 1 − CDN bytes / bytes received, over the segments published in the measured window. */
  offload: number;
  bound: number;
  binding: "copies" | "uplink";
  rebufferingShare: number;
  stalls: number;
  /** hls.js-style latency (the playlist's edge, aged since its load, minus the playhead), s. */
  latencyMedianSec: number;
  latencyP95Sec: number;
  /** Share of viewers whose latency grew by a step. */
  steppedShare: number;
  /** Shares of new segments obtained from a peer, as a seed, late from the CDN. */
  outcomeShares: { peer: number; seed: number; late: number };
  /** Mean peer connections per viewer. */
  peersMean: number;
  /** Uploaded bytes per second per uplink class, Mbit/s (median of the class). */
  uploadMbpsByUplink: Record<string, number>;
  events: number;
  /** Requests refused, by the holder's uplink; urgent CDN fetches, by what the viewer was doing. */
  counts: Record<string, number>;
  wallMs: number;
}

interface Pull {
  holder: number;
  requestedAt: number;
  startRecv: number;
  endRecv: number;
  /** The holder's uplink slot, and its budget reservation. */
  uplinkEnd: number;
  reservation: object | undefined;
  answered: boolean;
}

interface PeerLink {
  openedAt: number;
  /** Bytes moved either way, with when (s), oldest first. */
  moved: Array<[number, number]>;
}

interface Viewer {
  index: number;
  uplinkBps: number;
  downlinkBps: number;
  /** Half the round trip to other viewers, s. */
  oneWaySec: number;
  cdnFetchSec: number;
  joinAt: number;
  joined: boolean;
  /** Playlist staleness: a new segment is listed this long after its publication, s. */
  listLagSec: number;
  /** The last playlist load, and the last one a peer's announcement asked for, s. */
  loadedAt: number;
  refreshedAt: number;
  neighbors: number[];
  /** Per neighbour: when the connection opened, and what it moved (for the peer choice). */
  links: Map<number, PeerLink>;
  uplinkFreeAt: number;
  budget: InstanceType<Sdk["UplinkBudget"]>;
  adaptive: InstanceType<Sdk["AdaptiveLatency"]>;
  // Latency behind the origin's clock: lam0 at t0, growing at `growth` up to `lamTarget`.
  lam0: number;
  t0: number;
  growth: number;
  lamTarget: number;
  /** Latency the SDK added to hls.js's target, s. */
  addedSec: number;
  stallSince: number;
  stallFor: number;
  firstSegment: number;
  result: ViewerResult;
}

/** Runs one swarm; `sdk` is the SDK's engine build (`sdk/dist/swarmcast-engine.mjs`). */
export function simulate(sdk: Sdk, config: SimulationConfig, linksName = "custom"): SimulationResult {
  const started = performance.now();
  const defaults = sdk.DEFAULT_SWARMCAST_CONFIG;
  const edge = {
    ...defaults.liveEdge,
    seedCopies: config.seedCopies ?? defaults.liveEdge.seedCopies,
    relayMinCopies: config.relayMinCopies ?? defaults.liveEdge.relayMinCopies,
  };
  const relayReadWaitSec = defaults.liveEdge.relayReadWaitMs / 1000;
  const highDemandSec = defaults.core.highDemandTimeWindow;
  const maxTurnWaitSec = defaults.serialUploads.maxWaitMs / 1000;
  const refresh = defaults.playlistRefresh;
  const D = config.segmentSec;
  const segmentBytes = (config.bitrateBps * D) / 8;
  const rand = mulberry32(config.seed);
  const q = new EventQueue();
  let events = 0;
  const counts: Record<string, number> = {};
  const count = (key: string) => void (counts[key] = (counts[key] ?? 0) + 1);

  const endAt = config.warmupSec + config.steadySec + 2 * D;
  const segments = Math.ceil(endAt / D) + config.liveSyncCount + 4;
  const n = config.viewers;
  const state = new Uint8Array(n * segments);
  const redrawn = new Uint8Array(n * segments);
  const drawToken = new Uint16Array(n * segments);
  /** The segment is one the edge fetcher watched (new in the playlist, not yet urgent). */
  const watched = new Uint8Array(n * segments);
  const pulls = new Map<number, Pull>();
  /** Downloads announced before they are done (early CDN fetches; admitted pulls in the what-if): when their bytes arrive. */
  const inFlight = new Map<number, number>();
  const firstJoin = (config.liveSyncCount + 1) * D;
  const windowStart = firstJoin + config.warmupSec;
  const windowEnd = windowStart + config.steadySec;
  const counted = (k: number) => (k + 1) * D >= windowStart && (k + 1) * D < windowEnd;

  const links = assignLinks(config.links, n);
  const viewers: Viewer[] = links.map((link, index) => {
    const budget = new sdk.UplinkBudget(defaults.uplinkBudget);
    // The budget's estimate is the link's rate, as if one busy stretch had measured it.
    const perSecond = (link.uplinkMbps * 1e6) / 8;
    budget.noteSegmentSize(segmentBytes);
    budget.onChunk(perSecond, 0);
    budget.onWireSample(perSecond, 1000);
    budget.onWireSample(0, 1500);
    const joinAt = firstJoin + rand() * config.joinSpreadSec;
    const viewer: Viewer = {
      index,
      uplinkBps: link.uplinkMbps * 1e6,
      downlinkBps: link.downlinkMbps * 1e6,
      oneWaySec: link.oneWayDelayMs / 1000,
      cdnFetchSec: (link.cdnRttMs ?? 0) / 1000 + (segmentBytes * 8) / (link.downlinkMbps * 1e6),
      joinAt,
      joined: false,
      listLagSec: joinAt % D,
      loadedAt: joinAt,
      refreshedAt: -Infinity,
      neighbors: [],
      links: new Map(),
      uplinkFreeAt: 0,
      budget,
      adaptive: undefined as unknown as Viewer["adaptive"],
      lam0: 0,
      t0: 0,
      growth: 0,
      lamTarget: Infinity,
      addedSec: 0,
      stallSince: -1,
      stallFor: -1,
      firstSegment: 0,
      result: {
        uplinkMbps: link.uplinkMbps,
        cdnBytes: 0,
        peerBytes: 0,
        uploadedBytes: 0,
        stalls: 0,
        stalledSec: 0,
        latencySteps: 0,
        outcomes: { peer: 0, seed: 0, late: 0 },
      },
    };
    const adaptiveConfig = { ...defaults.adaptiveLatency, enabled: config.adaptiveLatency };
    viewer.adaptive = new sdk.AdaptiveLatency(adaptiveConfig, () => ({
      // As the hls.js adapter does: hls.js's target latency moves back by `seconds` and the
      // video plays at `slowRate` until hls.js's latency (behind the playlist's edge) reaches it.
      addLatency: (seconds: number, slowRate: number) => {
        viewer.addedSec += seconds;
        viewer.result.latencySteps++;
        const lam = latency(viewer, q.now);
        const target = config.liveSyncCount * D + viewer.addedSec + viewer.listLagSec;
        if (lam >= target) return;
        viewer.lam0 = lam;
        viewer.t0 = q.now;
        viewer.growth = 1 - slowRate;
        viewer.lamTarget = target;
      },
    }));
    return viewer;
  });
  connect(viewers, config.maxPeers, rand);
  for (const v of viewers) for (const j of v.neighbors) v.links.set(j, { openedAt: 0, moved: [] });
  const choice = { ...defaults.peerChoice, enabled: config.peerChoice ?? defaults.peerChoice.enabled };
  let replaced = 0;

  /** Bytes moved between `a` and `b` at `t`, on both ends' books. */
  function moved(a: Viewer, b: Viewer, bytes: number, t: number): void {
    a.links.get(b.index)?.moved.push([t, bytes]);
    b.links.get(a.index)?.moved.push([t, bytes]);
  }

  /**
   * The SDK's check of a full set, every `intervalMs`: the connection it gives up closes on both
   * ends, and each end's free slot takes a random viewer with a free slot of its own (the
   * tracker's next introduction), other than the one just left.
   */
  function choosePeers(v: Viewer): void {
    const t = q.now;
    const uses = new Map<number, SdkEngine.ConnectionUse>();
    for (const [j, link] of v.links) {
      while (link.moved.length > 0 && link.moved[0][0] <= t - choice.windowMs / 1000) link.moved.shift();
      const last = link.moved.at(-1);
      uses.set(j, {
        openedAt: link.openedAt * 1000,
        recentBytes: link.moved.reduce((sum, [, b]) => sum + b, 0),
        lastActiveAt: last === undefined ? undefined : last[0] * 1000,
      });
    }
    const drop = sdk.connectionToDrop(uses, config.maxPeers, t * 1000, choice);
    if (drop !== undefined) {
      const other = viewers[drop];
      disconnect(v, other);
      replaced++;
      introduce(v, other.index);
      introduce(other, v.index);
    }
    q.after(choice.intervalMs / 1000, () => choosePeers(v));
  }
  function disconnect(a: Viewer, b: Viewer): void {
    a.neighbors.splice(a.neighbors.indexOf(b.index), 1);
    b.neighbors.splice(b.neighbors.indexOf(a.index), 1);
    a.links.delete(b.index);
    b.links.delete(a.index);
  }
  /** Viewers that may have a free slot (checked when drawn). */
  const open: number[] = viewers.filter((v) => v.neighbors.length < config.maxPeers).map((v) => v.index);
  function introduce(v: Viewer, left: number): void {
    if (v.neighbors.length >= config.maxPeers) return;
    // Random draws among the viewers with a free slot; one that has none any more leaves the list.
    for (let tries = 0; tries < 8 && open.length > 0; tries++) {
      const at = Math.floor(rand() * open.length);
      const other = viewers[open[at]];
      if (other.neighbors.length >= config.maxPeers) {
        open[at] = open[open.length - 1];
        open.pop();
        continue;
      }
      if (other === v || other.index === left || !other.joined || v.links.has(other.index)) continue;
      v.neighbors.push(other.index);
      other.neighbors.push(v.index);
      v.links.set(other.index, { openedAt: q.now, moved: [] });
      other.links.set(v.index, { openedAt: q.now, moved: [] });
      return;
    }
    open.push(v.index);
  }

  /** Latency behind the origin's clock at `t` (playing, or frozen in a stall). */
  function latency(v: Viewer, t: number): number {
    if (v.stallSince >= 0) return latencyPlaying(v, v.stallSince) + (t - v.stallSince);
    return latencyPlaying(v, t);
  }
  function latencyPlaying(v: Viewer, t: number): number {
    return v.growth > 0 ? Math.min(v.lamTarget, v.lam0 + v.growth * (t - v.t0)) : v.lam0;
  }
  function playhead(v: Viewer, t: number): number {
    return t - latency(v, t);
  }
  function rate(v: Viewer, t: number): number {
    if (v.stallSince >= 0) return 0;
    return v.growth > 0 && latencyPlaying(v, t) < v.lamTarget ? 1 - v.growth : 1;
  }
  /** Seconds until the playhead reaches `position` at the current rate (Infinity while stalled). */
  function secondsUntil(v: Viewer, position: number, t: number): number {
    const r = rate(v, t);
    const gap = position - playhead(v, t);
    if (gap <= 0) return 0;
    return r > 0 ? gap / r : Infinity;
  }
  function holders(v: Viewer, k: number): number[] {
    const list: number[] = [];
    for (const j of v.neighbors) if (holds(j, k)) list.push(j);
    return list;
  }
  /** Viewer `j` holds segment `k`, or announced it while its download runs. */
  function holds(j: number, k: number): boolean {
    const s = state[j * segments + k];
    return s === HAVE || ((s === CDN_FETCH || s === PULLING) && inFlight.has(j * segments + k));
  }
  function hasHolder(v: Viewer, k: number): boolean {
    return v.neighbors.some((j) => holds(j, k));
  }
  function joinedPeers(v: Viewer): number {
    let count = 0;
    for (const j of v.neighbors) if (viewers[j].joined) count++;
    return count;
  }

  function join(v: Viewer): void {
    v.joined = true;
    const t = q.now;
    const edgeEnd = Math.floor(t / D) * D;
    v.firstSegment = edgeEnd / D - config.liveSyncCount;
    v.lam0 = t - v.firstSegment * D + STARTUP_SEC;
    v.t0 = t;
    for (let k = v.firstSegment; k < edgeEnd / D; k++) learn(v, k, false);
    scheduleNeed(v, v.firstSegment);
    if (choice.enabled) q.after(choice.intervalMs / 1000, () => choosePeers(v));
  }

  /** A scheduled reload of `v`'s playlist lists segment `k`. */
  function listed(v: Viewer, k: number): void {
    v.loadedAt = q.now;
    learn(v, k, true);
  }

  /**
   * A peer announced segment `k`, which `v`'s playlist may not list yet: the SDK reloads the
   * playlist now (`playlistRefresh`), and hls.js's next reloads follow one target duration apart
   * from this one, so `v` sees later segments sooner after their publication too.
   */
  function announced(v: Viewer, k: number): void {
    const t = q.now;
    const unlisted = (k + 1) * D + v.listLagSec > t;
    if (
      unlisted &&
      refresh.enabled &&
      t - v.refreshedAt >= refresh.minIntervalMs / 1000 &&
      t - v.loadedAt >= refresh.minAfterLoadMs / 1000
    ) {
      v.refreshedAt = t;
      v.loadedAt = t;
      v.listLagSec = t % D;
    }
    learn(v, k, true);
  }

  /** Segment `k` is listed in `v`'s playlist, or a peer announced it. */
  function learn(v: Viewer, k: number, isNew: boolean): void {
    const at = v.index * segments + k;
    if (!v.joined || k < v.firstSegment || state[at] !== UNKNOWN) return;
    const t = q.now;
    const untilUrgent = secondsUntil(v, k * D - highDemandSec, t);
    if (untilUrgent <= 0) return cdnFetch(v, k, "late");
    watched[at] = isNew ? 1 : 0;
    if (hasHolder(v, k)) startPull(v, k);
    else draw(v, k, untilUrgent);
    q.after(untilUrgent, () => urgent(v, k));
  }

  function draw(v: Viewer, k: number, untilUrgent: number): void {
    const at = v.index * segments + k;
    state[at] = WAITING;
    const copies = v.budget.copiesInTime(D, q.now * 1000);
    const delay = sdk.edgeFetchDelaySec(untilUrgent, joinedPeers(v), rand(), edge, copies);
    const token = ++drawToken[at];
    q.after(delay, () => {
      if (state[at] !== WAITING || drawToken[at] !== token) return;
      events++;
      if (hasHolder(v, k)) startPull(v, k);
      else cdnFetch(v, k, redrawn[at] ? "late" : "seed", true);
    });
  }

  function startPull(v: Viewer, k: number): void {
    const at = v.index * segments + k;
    const list = holders(v, k);
    if (list.length === 0) return;
    const j = list[Math.floor(rand() * list.length)];
    const holder = viewers[j];
    state[at] = PULLING;
    drawToken[at]++;
    const pull: Pull = {
      holder: j,
      requestedAt: q.now,
      startRecv: Infinity,
      endRecv: Infinity,
      uplinkEnd: 0,
      reservation: undefined,
      answered: false,
    };
    pulls.set(at, pull);
    const oneWay = v.oneWaySec + holder.oneWaySec;
    q.after(oneWay, () => {
      events++;
      if (pulls.get(at) !== pull) return;
      const t = q.now;
      const rateBps = Math.min(holder.uplinkBps, v.downlinkBps);
      // A holder still pulling the segment (a relay) sends nothing before it has it: it answers
      // "absent" after relayReadWaitMs without the bytes, and the wait counts against the turn.
      const pulling = state[j * segments + k] === PULLING ? (inFlight.get(j * segments + k) ?? 0) : 0;
      const turnWait = Math.max(0, Math.max(holder.uplinkFreeAt, pulling) - t);
      if (
        pulling - t > relayReadWaitSec ||
        turnWait > maxTurnWaitSec ||
        !holder.budget.fits(segmentBytes, D, t * 1000)
      ) {
        count(`refused by a ${holder.uplinkBps / 1e6} Mbit/s holder`);
        q.after(oneWay, () => refused(v, k, pull));
        return;
      }
      pull.reservation = holder.budget.reserve(segmentBytes, t * 1000);
      const start = Math.max(t, holder.uplinkFreeAt, inFlight.get(j * segments + k) ?? 0);
      const end = start + (segmentBytes * 8) / rateBps;
      holder.uplinkFreeAt = end;
      pull.uplinkEnd = end;
      pull.startRecv = start + oneWay;
      pull.endRecv = end + oneWay;
      pull.answered = true;
      if (edge.relayMinCopies > 0 && (v.budget.copiesInTime(D, t * 1000) ?? 0) >= edge.relayMinCopies) {
        inFlight.set(at, pull.endRecv);
        tell(v, k);
      }
      q.at(end, () => holder.budget.release(pull.reservation));
      q.at(pull.endRecv, () => {
        if (pulls.get(at) !== pull) return;
        events++;
        pulls.delete(at);
        inFlight.delete(at);
        holder.result.uploadedBytes += counted(k) ? segmentBytes : 0;
        moved(v, holder, segmentBytes, q.now);
        complete(v, k, "peer");
      });
    });
  }

  function refused(v: Viewer, k: number, pull: Pull): void {
    const at = v.index * segments + k;
    if (pulls.get(at) !== pull) return;
    events++;
    pulls.delete(at);
    const untilUrgent = secondsUntil(v, k * D - highDemandSec, q.now);
    if (untilUrgent <= 0) return;
    // The SDK draws the early fetch again (a second seed); PML tries a holder again on a later pass.
    if (edge.redrawOnPeerFailure) {
      redrawn[at] = 1;
      draw(v, k, untilUrgent);
    } else state[at] = WAITING;
    q.after(PML_PASS_SEC, () => {
      if (state[at] === WAITING && hasHolder(v, k)) startPull(v, k);
    });
  }

  function urgent(v: Viewer, k: number): void {
    const at = v.index * segments + k;
    const s = state[at];
    if (s === HAVE || s === CDN_FETCH) return;
    const t = q.now;
    const untilUrgent = secondsUntil(v, k * D - highDemandSec, t);
    if (untilUrgent > 1e-6) return void q.after(Math.min(untilUrgent, 1), () => urgent(v, k));
    events++;
    const pull = pulls.get(at);
    if (s === PULLING && pull) {
      const started = t >= pull.startRecv;
      const loaded = started ? Math.min(1, (t - pull.startRecv) / (pull.endRecv - pull.startRecv)) * segmentBytes : 0;
      const keep = sdk.keepPeerDownload(
        {
          loadedBytes: loaded,
          totalBytes: segmentBytes,
          attempt: pull.answered
            ? { startTimestamp: pull.requestedAt * 1000, loadedBytes: loaded, lastLoadedChunkTimestamp: t * 1000 }
            : undefined,
        },
        secondsUntil(v, k * D, t),
        t * 1000,
        defaults.keepPeerDownload,
        v.cdnFetchSec,
      );
      if (keep) return void q.after(KEEP_CHECK_SEC, () => urgent(v, k));
      pulls.delete(at);
      inFlight.delete(at);
      const holder = viewers[pull.holder];
      holder.budget.release(pull.reservation);
      // A cancelled upload still queued at the end of the holder's line gives its slot back.
      if (!started && pull.uplinkEnd === holder.uplinkFreeAt)
        holder.uplinkFreeAt -= (segmentBytes * 8) / Math.min(holder.uplinkBps, v.downlinkBps);
    }
    count(
      `urgent CDN fetch, ${
        s !== PULLING
          ? "no peer download"
          : !pull
            ? "refused"
            : t >= pull.startRecv
              ? "peer too slow"
              : pull.answered
                ? "upload queued"
                : "request unanswered"
      }`,
    );
    cdnFetch(v, k, "late");
  }

  /**
   * `v` fetches segment `k` from the CDN. An early fetch (`early`: the edge fetcher's, first or
   * drawn again) is announced the moment it starts; PML's urgent fetch only once it is done.
   */
  function cdnFetch(v: Viewer, k: number, outcome: "seed" | "late", early = false): void {
    const at = v.index * segments + k;
    state[at] = CDN_FETCH;
    drawToken[at]++;
    if (early) {
      inFlight.set(at, q.now + v.cdnFetchSec);
      tell(v, k);
    }
    q.after(v.cdnFetchSec, () => {
      events++;
      inFlight.delete(at);
      complete(v, k, outcome);
    });
  }

  function complete(v: Viewer, k: number, outcome: "peer" | "seed" | "late"): void {
    const at = v.index * segments + k;
    state[at] = HAVE;
    const t = q.now;
    if (counted(k)) {
      if (outcome === "peer") v.result.peerBytes += segmentBytes;
      else v.result.cdnBytes += segmentBytes;
      v.result.outcomes[outcome]++;
    }
    if (watched[at]) v.adaptive.note(outcome, D);
    if (v.stallSince >= 0 && v.stallFor === k) endStall(v, t);
    tell(v, k);
  }

  /** `v` announces segment `k` to its peers. */
  function tell(v: Viewer, k: number): void {
    for (const j of v.neighbors) {
      const s = state[j * segments + k];
      if (s !== UNKNOWN && s !== WAITING) continue;
      const peer = viewers[j];
      if (!peer.joined) continue;
      q.after(v.oneWaySec + peer.oneWaySec, () => {
        const now = state[j * segments + k];
        if (now === UNKNOWN) announced(peer, k);
        else if (now === WAITING) startPull(peer, k);
      });
    }
  }

  function scheduleNeed(v: Viewer, k: number): void {
    q.after(secondsUntil(v, k * D, q.now), () => need(v, k));
  }

  function need(v: Viewer, k: number): void {
    const t = q.now;
    const wait = secondsUntil(v, k * D, t);
    if (wait > 1e-6) return void q.after(wait, () => need(v, k));
    events++;
    if (state[v.index * segments + k] === HAVE) {
      if (k + 1 < segments) scheduleNeed(v, k + 1);
      return;
    }
    v.stallSince = t;
    v.stallFor = k;
  }

  function endStall(v: Viewer, t: number): void {
    const lam = latency(v, t);
    const duration = t - v.stallSince;
    if (v.stallSince >= windowStart && v.stallSince < windowEnd) {
      v.result.stalls++;
      v.result.stalledSec += duration;
    }
    const k = v.stallFor;
    v.stallSince = -1;
    v.stallFor = -1;
    v.lam0 = lam;
    v.t0 = t;
    if (lam >= v.lamTarget) v.growth = 0;
    if (k + 1 < segments) scheduleNeed(v, k + 1);
  }

  for (const v of viewers) q.at(v.joinAt, () => join(v));
  for (let k = 0; k < segments; k++) {
    const published = (k + 1) * D;
    q.at(published, () => {
      for (const v of viewers) {
        if (!v.joined) continue;
        q.after(v.listLagSec, () => listed(v, k));
      }
    });
  }
  const samples: number[] = [];
  for (let t = windowStart; t < windowEnd; t += D) {
    q.at(t, () => {
      for (const v of viewers) samples.push(latency(v, q.now) - v.listLagSec);
    });
  }
  q.run(windowEnd);

  let cdn = 0;
  let received = 0;
  for (const v of viewers) {
    cdn += v.result.cdnBytes;
    received += v.result.cdnBytes + v.result.peerBytes;
    if (v.stallSince >= 0 && v.stallSince < windowEnd) {
      v.result.stalls++;
      v.result.stalledSec += windowEnd - Math.max(v.stallSince, windowStart);
    }
  }
  const bound = renditionBound(
    viewers.map((v) => v.uplinkBps),
    config.bitrateBps,
  );
  const outcomes = { peer: 0, seed: 0, late: 0 };
  for (const v of viewers) for (const key of ["peer", "seed", "late"] as const) outcomes[key] += v.result.outcomes[key];
  const outcomeTotal = outcomes.peer + outcomes.seed + outcomes.late || 1;
  samples.sort((a, b) => a - b);
  const byUplink: Record<string, number[]> = {};
  for (const v of viewers)
    (byUplink[String(v.result.uplinkMbps)] ??= []).push((v.result.uploadedBytes * 8) / config.steadySec / 1e6);
  const { links: _links, ...rest } = config;
  return {
    config: {
      ...rest,
      seedCopies: edge.seedCopies,
      relayMinCopies: edge.relayMinCopies,
      peerChoice: choice.enabled,
      links: linksName,
    },
    offload: received > 0 ? 1 - cdn / received : 0,
    bound: bound.bound,
    binding: bound.binding,
    rebufferingShare: viewers.reduce((s, v) => s + v.result.stalledSec, 0) / (n * config.steadySec),
    stalls: viewers.reduce((s, v) => s + v.result.stalls, 0),
    latencyMedianSec: quantile(samples, 0.5),
    latencyP95Sec: quantile(samples, 0.95),
    steppedShare: viewers.filter((v) => v.result.latencySteps > 0).length / n,
    outcomeShares: {
      peer: outcomes.peer / outcomeTotal,
      seed: outcomes.seed / outcomeTotal,
      late: outcomes.late / outcomeTotal,
    },
    peersMean: viewers.reduce((s, v) => s + v.neighbors.length, 0) / n,
    uploadMbpsByUplink: Object.fromEntries(
      Object.entries(byUplink).map(([k, list]) => [
        k,
        quantile(
          list.sort((a, b) => a - b),
          0.5,
        ),
      ]),
    ),
    events,
    counts: { ...counts, "connections replaced": replaced },
    wallMs: performance.now() - started,
  };
}

/**
 * Peer connections as the tracker's random introductions leave them under a cap: every viewer
 * offers `maxPeers` connection ends, the ends are paired at random, and pairs that repeat or
 * join a viewer to itself are dropped (a few viewers end with fewer).
 */
export function connect(viewers: { neighbors: number[] }[], maxPeers: number, rand: () => number): void {
  const n = viewers.length;
  if (n - 1 <= maxPeers) {
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) viewers[i].neighbors.push(j);
    return;
  }
  const ends = new Int32Array(n * maxPeers);
  for (let i = 0; i < ends.length; i++) ends[i] = Math.floor(i / maxPeers);
  for (let i = ends.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const x = ends[i];
    ends[i] = ends[j];
    ends[j] = x;
  }
  const seen = new Set<number>();
  for (let i = 0; i + 1 < ends.length; i += 2) {
    const a = ends[i];
    const b = ends[i + 1];
    if (a === b) continue;
    const key = a < b ? a * n + b : b * n + a;
    if (seen.has(key)) continue;
    seen.add(key);
    viewers[a].neighbors.push(b);
    viewers[b].neighbors.push(a);
  }
}

function quantile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}
