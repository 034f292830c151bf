// A private swarm end to end: our tracker started with a secret, viewers in real Chromium.
// Viewers holding a valid token find each other; a viewer with no token, a forged one or an
// expired one gets no peers, keeps playing from the origin, and is told why.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BrowserContext, Page } from "playwright-core";
import { mintToken } from "../../tracker/src/index";
import { useStage } from "../../devkit/stage";
import { waitFor } from "../../devkit/wait";

const SECRET = "private-swarm-test-secret";

const stage = useStage({ tracker: { secret: SECRET } });

interface State {
  attachError: string | null;
  currentTime: number;
  errors: Array<{ kind: string; message: string; fatal: boolean }>;
  stats: any;
}

describe("private swarm", () => {
  it(
    "admits viewers with a valid token only; the others play from HTTP and are told why",
    { timeout: 90_000 },
    async () => {
      const swarm = `private-${Date.now()}`;
      const forged = mintToken("another-secret", { ttlSeconds: 3600 });
      const expired = mintToken(SECRET, { ttlSeconds: 60, now: Date.now() / 1000 - 3600 });
      const viewers: Array<{ id: string; token?: string; admitted: boolean }> = [
        { id: "member1", token: mintToken(SECRET, { ttlSeconds: 3600, sub: "member1" }), admitted: true },
        { id: "member2", token: mintToken(SECRET, { ttlSeconds: 3600, sub: "member2" }), admitted: true },
        { id: "no-token", admitted: false },
        { id: "forged", token: forged, admitted: false },
        { id: "expired", token: expired, admitted: false },
      ];
      const opened: Array<{ page: Page; context: BrowserContext }> = [];
      try {
        for (const v of viewers) {
          const context = await stage.browser.newContext();
          const page = await context.newPage();
          page.on("pageerror", (err) => console.error(`[${v.id}] page error: ${err.message}`));
          const params: Record<string, string> = { src: stage.origin.liveUrl(v.id), tracker: stage.tracker.url, swarm };
          if (v.token) params.token = v.token;
          await page.goto(`${stage.pages.url}/pages/trust-player.html?${new URLSearchParams(params)}`);
          opened.push({ page, context });
        }
        const read = (page: Page): Promise<State> =>
          page.evaluate(() => {
            const r = (window as any).trustTest;
            return {
              attachError: r.attachError,
              currentTime: (document.querySelector("video") as HTMLVideoElement).currentTime,
              errors: r.errors,
              stats: r.player ? r.player.stats() : null,
            };
          });

        let states: State[] = [];
        // Playback progress from the first moment each viewer played.
        const firstTime: Array<number | undefined> = viewers.map(() => undefined);
        const played = (s: State, i: number) => s.currentTime - (firstTime[i] ?? s.currentTime);
        await waitFor(
          async () => {
            states = await Promise.all(opened.map((o) => read(o.page)));
            states.forEach((s, i) => {
              if (firstTime[i] === undefined && s.currentTime > 0) firstTime[i] = s.currentTime;
            });
            return states.every(
              (s, i) =>
                played(s, i) >= 6 &&
                (viewers[i].admitted ? s.stats.peers.length > 0 : s.errors.some((e) => e.kind === "tracker")),
            );
          },
          {
            what: "every viewer to play 6 s, admitted ones with a peer, refused ones with a tracker error",
            timeout: 45_000,
            interval: 500,
          },
        );
        const rejected = stage.tracker.stats().rejectedConnections as Record<string, number>;
        console.log(
          "# " +
            states
              .map(
                (s, i) =>
                  `${viewers[i].id}: ${s.stats.peers.length} peer(s), ${s.stats.httpSegments} http / ${s.stats.p2pSegments} p2p segments`,
              )
              .join("; ") +
            `; tracker refusals ${JSON.stringify(rejected)}`,
        );
        for (const [i, s] of states.entries()) {
          const v = viewers[i];
          assert.equal(s.attachError, null, `${v.id}: attach threw`);
          assert.ok(played(s, i) >= 6, `${v.id}: played only ${played(s, i)} s`);
          assert.deepEqual(
            s.errors.filter((e) => e.fatal),
            [],
            `${v.id}: fatal errors`,
          );
          const trackerErrors = s.errors.filter((e) => e.kind === "tracker");
          if (v.admitted) {
            assert.ok(s.stats.peers.length > 0, `${v.id}: a valid token but no peers`);
            assert.deepEqual(trackerErrors, [], `${v.id}: tracker errors with a valid token`);
            continue;
          }
          assert.equal(s.stats.peers.length, 0, `${v.id}: refused viewer has peers`);
          assert.equal(s.stats.p2pBytes, 0);
          assert.ok(s.stats.httpBytes > 0, `${v.id}: nothing from the origin`);
          assert.ok(trackerErrors.length > 0, `${v.id}: no tracker error event; errors ${JSON.stringify(s.errors)}`);
          const hint = v.token
            ? /refused the connection \(a private tracker refuses a forged or expired token: check the token option\); playing on from HTTP/
            : /refused the connection \(a private tracker refuses viewers without a token: set the token option\)/;
          assert.match(trackerErrors[0].message, hint, v.id);
          if (v.token) {
            // The token must not be repeated into logs.
            assert.ok(
              !trackerErrors.some((e) => e.message.includes(v.token!)),
              `${v.id}: the token appears in the error message`,
            );
          }
        }
        assert.ok((rejected.missing_token ?? 0) >= 1, `tracker refusals ${JSON.stringify(rejected)}`);
        assert.ok((rejected.bad_signature ?? 0) >= 1, `tracker refusals ${JSON.stringify(rejected)}`);
        assert.ok((rejected.expired_token ?? 0) >= 1, `tracker refusals ${JSON.stringify(rejected)}`);
      } finally {
        await Promise.all(opened.map((o) => o.context.close()));
      }
    },
  );
});
