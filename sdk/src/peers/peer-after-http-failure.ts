import { givenUpHoldersOf } from "./given-up-holders";
import { httpFallbackOf } from "./http-fallback";

/**
 * Whether PML should try a peer, not the CDN, for a segment it is about to fetch over HTTP.
 *
 * PML 2.3.1 gives a segment it needs soon `httpErrorRetries` (3) HTTP attempts before it looks at
 * peers, however many of them hold the segment. When this viewer's CDN edge fails (503s, resets,
 * connections that hang until PML's 3 s no-bytes timeout), that is up to 9 s of retries the
 * buffer does not have, while a peer would send the segment in one. A build-time patch
 * (`patchPmlQueue` in rollup.config.mjs) asks this before each HTTP attempt, with PML's segment
 * store: a connected peer that announced the segment gets it when
 * - the segment's last attempt failed over HTTP, or
 * - it has had no attempt yet and this viewer's CDN failed lately (`HttpFallback.failedLately`):
 *   against an edge that holds requests until the timeout, a first attempt over HTTP costs each
 *   segment 3 s. Once the last failure is older than `liveEdge.cdnFailurePauseMs`, the next
 *   segment's first attempt asks the CDN again, so a recovered edge is found within that time;
 * - its last attempt failed from a peer, this viewer's CDN failed lately, and another holder is
 *   free whose attempt at the segment was not given up lately (`GivenUpHolders`, which PML's draw
 *   then passes over): the CDN that just failed would cost the segment its timeout again, where
 *   the next holder is a fresh chance.
 * Otherwise, after a peer failed, HTTP is next: the sources alternate, and PML still gives up on
 * the segment after its HTTP attempts are spent. Peer attempts in a row are bounded by the
 * holders: each failed one is passed over for `givenUpHolders.forgetMs`.
 */

/** What the patched PML passes: its request for the segment (undefined before the first attempt). */
export interface PmlRequestAttempts {
  failedAttempts: { lastAttempt?: { downloadSource?: string } };
}

/** A PML peer as its peer loader sees it when it draws a holder. */
export interface PmlHolder<Segment> {
  readonly id: string;
  readonly downloadingSegment?: unknown;
  getSegmentStatus(segment: Segment): string | undefined;
}

/** PML's loader of peers for the current stream. */
export interface PmlPeerHolders<Segment> {
  isSegmentLoadedBySomeone(segment: Segment): boolean;
  /** Its tracker client (not in PML's typings): the peers it would draw from, by id. */
  readonly trackerClient?: { peers(): Iterable<PmlHolder<Segment>> };
}

export function peerAfterHttpFailure<Segment extends { url: string }>(
  request: PmlRequestAttempts | undefined,
  segment: Segment,
  peers: PmlPeerHolders<Segment>,
  store?: object,
): boolean {
  const lastSource = request?.failedAttempts.lastAttempt?.downloadSource;
  if (lastSource === "p2p") return httpFallbackOf(store)?.failedLately === true && freshHolder(segment, peers, store);
  if (lastSource !== "http" && !httpFallbackOf(store)?.failedLately) return false;
  return peers.isSegmentLoadedBySomeone(segment);
}

/**
 * Whether a peer transfer of an urgent segment that PML just gave up (it trickled in: the
 * holder's uplink is taken) should go to another holder rather than to HTTP. A build-time patch
 * asks this in the switch where PML 2.3.1 starts the segment over HTTP. Yes while this viewer's
 * CDN is failing (`HttpFallback.failing`: its last request failed and none succeeded since) and
 * a free holder whose attempt at the segment was not given up lately is left: against an edge
 * that holds requests, the HTTP attempt costs the segment PML's 3 s no-bytes timeout, where
 * another holder sends it in a fraction of a second. PML's draw passes over the holder just
 * given up (`GivenUpHolders` hears the abort before the draw).
 */
export function nextHolderAfterGivingUp<Segment extends { url: string }>(
  segment: Segment,
  peers: PmlPeerHolders<Segment>,
  store?: object,
): boolean {
  return httpFallbackOf(store)?.failing === true && freshHolder(segment, peers, store);
}

/** A free holder of `segment` whose attempt at it was not given up lately. */
function freshHolder<Segment extends { url: string }>(
  segment: Segment,
  peers: PmlPeerHolders<Segment>,
  store: object | undefined,
): boolean {
  const givenUp = givenUpHoldersOf(store);
  if (!peers.trackerClient || !givenUp) return false;
  for (const peer of peers.trackerClient.peers()) {
    if (peer.downloadingSegment || peer.getSegmentStatus(segment) !== "loaded") continue;
    if (!givenUp.givenUpLately(segment.url, peer.id)) return true;
  }
  return false;
}
