/**
 * POST /beacon: viewers' byte counters summed per swarm into /stats.json and /metrics (top
 * swarms + "other"), checked and rate-limited, and summed across the nodes of a cluster.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { mintToken } from "../../tracker/src/index";
import { eventually, getJson, startCluster, startOurs } from "./helpers";

const post = (base: string, body: unknown, headers: Record<string, string> = {}, query = "") =>
  fetch(`${base}/beacon${query}`, {
    method: "POST",
    headers: { "content-type": "text/plain", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

describe("stats beacon", () => {
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of closers) await c();
  });

  it("sums viewers' bytes per swarm and exposes the offload ratio", async () => {
    const t = await startOurs();
    closers.push(() => t.close());
    assert.equal((await post(t.httpUrl, { swarm: "live-a", cdn: 1000, peers: 3000, uploaded: 2000 })).status, 204);
    assert.equal((await post(t.httpUrl, { swarm: "live-a", cdn: 1000, peers: 5000, uploaded: 0 })).status, 204);
    assert.equal((await post(t.httpUrl, { swarm: "live-b", cdn: 4000, peers: 0, uploaded: 0 })).status, 204);
    const { body } = await getJson(`${t.httpUrl}/stats.json`);
    const a = body.audience.swarms.find((s: any) => s.swarm === "live-a");
    assert.deepEqual(
      { cdn: a.cdn, peers: a.peers, uploaded: a.uploaded, beacons: a.beacons },
      { cdn: 2000, peers: 8000, uploaded: 2000, beacons: 2 },
    );
    assert.equal(a.offloadRatio, 0.8);
    assert.equal(body.audience.total.offloadRatio, 8000 / 14000);
    const metrics = await t.metrics();
    assert.match(metrics, /swarmcast_tracker_audience_bytes_total\{swarm="live-a",source="peers"\} 8000/);
    assert.match(metrics, /swarmcast_tracker_audience_offload_ratio\{swarm="live-a"\} 0.8/);
    assert.match(metrics, /swarmcast_tracker_audience_beacons_total\{result="accepted"\} 3/);
  });

  it("labels the top 10 swarms and sums the rest as other", async () => {
    const t = await startOurs();
    closers.push(() => t.close());
    for (let i = 0; i < 14; i++) await post(t.httpUrl, { swarm: `s${i}`, cdn: 100 * (i + 1), peers: 0, uploaded: 0 });
    const metrics = await t.metrics();
    const swarms = new Set(
      [...metrics.matchAll(/audience_bytes_total\{swarm="([^"]+)",source="cdn"\}/g)].map((m) => m[1]),
    );
    assert.equal(swarms.size, 11);
    assert.ok(swarms.has("other") && swarms.has("s13") && !swarms.has("s0"));
    assert.match(metrics, /audience_bytes_total\{swarm="other",source="cdn"\} 1000/); // s0..s3: 100+200+300+400
  });

  it("refuses bad bodies, oversize, foreign origins, missing tokens, and floods", async () => {
    const t = await startOurs({ origins: ["https://site.example"], secret: "s3cret" });
    closers.push(() => t.close());
    const ok = { origin: "https://site.example" };
    const q = `?token=${mintToken("s3cret", { ttlSeconds: 60 })}`;
    assert.equal(
      (await post(t.httpUrl, { swarm: "x", cdn: 1, peers: 1, uploaded: 1 }, { origin: "https://evil.example" }, q))
        .status,
      403,
    );
    assert.equal((await post(t.httpUrl, { swarm: "x", cdn: 1, peers: 1, uploaded: 1 }, ok)).status, 401);
    const bad = await post(t.httpUrl, { swarm: "x", cdn: -1, peers: 1, uploaded: 1 }, ok, q);
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /cdn must be an integer/);
    assert.equal((await post(t.httpUrl, "{not json", ok, q)).status, 400);
    assert.equal(
      (await post(t.httpUrl, { swarm: "x".repeat(2000), cdn: 1, peers: 1, uploaded: 1 }, ok, q)).status,
      413,
    );
    // 150 at once against a bucket of 60 refilled at 2/s: most of the rest must be refused,
    // however slowly a loaded machine answers them.
    const statuses = await Promise.all(
      Array.from({ length: 150 }, () =>
        post(t.httpUrl, { swarm: "x", cdn: 1, peers: 1, uploaded: 1 }, ok, q).then((r) => r.status),
      ),
    );
    const limited = statuses.filter((s) => s === 429).length;
    assert.ok(limited >= 50, `${limited} of 150 simultaneous beacons refused`);
    assert.match(await t.metrics(), /audience_beacons_total\{result="rate_limited"\} \d+/);
    assert.equal((await getJson(`${t.httpUrl}/health`)).body.status, "ok");
  });

  it("sums beacons sent to different nodes of a cluster", async () => {
    const c = await startCluster(2);
    closers.push(() => c.close());
    const [n1, n2] = c.nodes;
    await post(n1.httpUrl, { swarm: "shared", cdn: 1000, peers: 1000, uploaded: 0 });
    await post(n2.httpUrl, { swarm: "shared", cdn: 0, peers: 2000, uploaded: 500 });
    for (const n of [n1, n2]) {
      await eventually(async () => {
        const s = (await getJson(`${n.httpUrl}/stats.json`)).body.audience.swarms.find(
          (r: any) => r.swarm === "shared",
        );
        return s !== undefined && s.peers === 3000 && s.cdn === 1000 && s.uploaded === 500;
      }, 3000);
    }
  });
});
