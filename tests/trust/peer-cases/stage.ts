import type { Stage } from "../../../devkit/stage";
import { startStage } from "../../../devkit/stage";
import { startOrigin } from "../../../devkit/origin/index";
import { startTracker } from "../../../tracker/src/index";

/**
 * One Chromium, page server, tracker and origin pair for all the Chromium cases of
 * peers.browser.test.ts, each case seeing the parts it needs as a {@link Stage}. Each case plays
 * in its own swarm, so they do not meet on the shared tracker. Filled by {@link startPeerStages}
 * in the test file's `before` hook: read the fields inside tests.
 */
/** The origin publishes hash tags; the default tracker. */
export const hashedStage = {} as Stage;
/** The same, but an origin whose playlists publish no hashes. */
export const plainStage = {} as Stage;
/** Offer flood: the hashed origin, and a tracker whose per-target offer budget lets a 60-offer flood through. */
export const floodStage = {} as Stage;

/** Offers the flood case relays to its victim (see offer-flood.ts). */
export const FLOOD_OFFERS = 60;

export async function startPeerStages(): Promise<() => Promise<void>> {
  const [shared, plainOrigin, floodTracker] = await Promise.all([
    startStage({ tracker: { logLevel: "warn" } }),
    startOrigin({ hashTags: false }),
    // fullScrape lets the attacker learn the viewer's info_hash, as anyone could by watching a
    // page. The tracker's per-target offer budget (limits.offerBurst, 30 by default) is the
    // tracker's half of this defence; raised here so that the whole flood reaches the viewer and
    // the SDK's cap is what holds it.
    startTracker({
      host: "127.0.0.1",
      port: 0,
      logLevel: "warn",
      fullScrape: true,
      limits: { offerBurst: FLOOD_OFFERS },
    }),
  ]);
  Object.assign(hashedStage, shared);
  Object.assign(plainStage, shared, { origin: plainOrigin });
  Object.assign(floodStage, shared, { tracker: floodTracker });
  return async () => {
    await shared.close();
    await Promise.all([plainOrigin.close(), floodTracker.close()]);
  };
}
