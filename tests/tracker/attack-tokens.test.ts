/**
 * What a token allows: the info_hashes and the origin it names, a bounded number of sockets, no
 * lifetime over --max-token-ttl, no socket outliving it, and exactly one spelling of its signature.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { afterEach, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { waitFor } from "../../devkit/wait";
import { TOKEN_QUERY_PARAM } from "../../shared/protocol";
import { swarmInfoHash } from "../../tracker/src/swarm-info-hash";
import { mintToken, verifyToken } from "../../tracker/src/token";
import { announce, binId, isFailure, isReply, refusedUpgrade, startOurs, TestClient } from "./helpers";
// PML's own functions, read straight from the pinned package, to check our derivation against.
import { getStreamHash } from "../../node_modules/p2p-media-loader-core/lib/utils/peer.js";
import { generateStreamShortId } from "../../node_modules/p2p-media-loader-core/lib/utils/stream.js";

const SECRET = "token-secret";
const tokenBin = fileURLToPath(new URL("../../tracker/bin/swarmcast-token.mjs", import.meta.url));

describe("token claims and limits", () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });
  async function setup(limits: Record<string, number> = {}) {
    const t = await startOurs({ secret: SECRET, limits });
    cleanup.push(() => t.close());
    const url = (token: string) => `${t.url}/?${TOKEN_QUERY_PARAM}=${encodeURIComponent(token)}`;
    const connect = async (token: string, opts = {}) => {
      const c = await TestClient.connect(url(token), opts);
      cleanup.push(() => c.close());
      return c;
    };
    return { t, url, connect };
  }

  it("binds a token to its info_hashes", async () => {
    const { connect } = await setup();
    const mine = binId("bound-ih");
    const other = binId("other-ih");
    const c = await connect(mintToken(SECRET, { ttlSeconds: 60, infoHashes: [mine] }));
    c.send(announce(other, binId("p1"), { event: "started" }));
    assert.match((await c.next(isFailure))["failure reason"], /not allowed by the access token/);
    c.send({ action: "scrape", info_hash: [mine, other] });
    assert.match((await c.next(isFailure))["failure reason"], /not allowed/);
    c.send(announce(mine, binId("p1"), { event: "started" }));
    await c.next(isReply);
  });

  it("binds a token to an origin", async () => {
    const { url, connect } = await setup();
    const token = mintToken(SECRET, { ttlSeconds: 60, origin: "https://good.example" });
    assert.equal((await refusedUpgrade(url(token), { origin: "https://evil.example" })).status, 403);
    assert.equal((await refusedUpgrade(url(token))).status, 403);
    await connect(token, { origin: "https://good.example" });
  });

  it("limits the sockets one token opens at once", async () => {
    const { t, url, connect } = await setup();
    const token = mintToken(SECRET, { ttlSeconds: 60 });
    const open = [];
    for (let i = 0; i < 10; i++) open.push(await connect(token));
    const refused = await refusedUpgrade(url(token));
    assert.equal(refused.status, 429);
    assert.match(refused.body, /too many connections with this access token/);
    open[0].close();
    await waitFor(() => t.stats().connections === 9, {
      what: "the tracker to see the closed socket",
      timeout: 3000,
      interval: 20,
    });
    await connect(token);
    assert.equal(t.stats().connections, 10);
  });

  it("refuses tokens that live longer than --max-token-ttl", async () => {
    const { url } = await setup();
    const r = await refusedUpgrade(url(mintToken(SECRET, { ttlSeconds: 30 * 86_400 })));
    assert.equal(r.status, 403);
    assert.match(r.body, /lives longer/);
  });

  it("closes a socket when its token expires", async () => {
    const { connect } = await setup();
    const c = await connect(mintToken(SECRET, { ttlSeconds: 1.5 }));
    assert.equal(await c.closed(4000), 4001);
  });

  it("accepts exactly one spelling of a signature", () => {
    const now = 1_700_000_000;
    const token = mintToken(SECRET, { ttlSeconds: 60, now });
    assert.ok(verifyToken(SECRET, token, now).ok);
    const [payload, sig] = token.split(".");
    const last = sig[sig.length - 1];
    // The last character carries 2 unused bits: a neighbour decodes to the same bytes.
    const sameBytes = `${payload}.${sig.slice(0, -1)}${String.fromCharCode(last.charCodeAt(0) + 1)}`;
    const padded = `${token}=`;
    const otherAlphabet = `${payload}.${sig.replaceAll("-", "+").replaceAll("_", "/")}`;
    for (const variant of [sameBytes, padded, otherAlphabet]) {
      if (variant === token) continue;
      assert.equal(verifyToken(SECRET, variant, now).ok, false, variant);
    }
  });

  it("derives info_hashes as the pinned PML does, from the command line too", () => {
    const rendition = { bitrate: 800_000, codecs: "avc1.66.30", width: 640, height: 360, frameRate: "30.000" };
    const pmlShortId = generateStreamShortId(rendition);
    const pml = getStreamHash(`v2-live/ch1-main-${pmlShortId}`);
    assert.equal(swarmInfoHash("live/ch1", { type: "main", ...rendition }), pml);
    const audio = { bitrate: 0, codecs: "mp4a.40.2", language: "en", channels: "2", name: "English" };
    assert.equal(
      swarmInfoHash("live/ch1", { type: "secondary", ...audio }),
      getStreamHash(`v2-live/ch1-secondary-${generateStreamShortId(audio)}`),
    );

    const r = spawnSync(
      process.execPath,
      [
        tokenBin,
        "--secret",
        SECRET,
        "--swarm-id",
        "live/ch1",
        "--stream",
        "main;bitrate=800000;codecs=avc1.66.30;width=640;height=360;frame-rate=30.000",
      ],
      { encoding: "utf8", timeout: 20_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const check = verifyToken(SECRET, r.stdout.trim());
    assert.ok(check.ok);
    assert.deepEqual(check.claims.ih, [pml]);
  });
});
