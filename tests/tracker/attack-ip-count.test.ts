/**
 * Per-IP connection counts: only sockets that opened count (a refused handshake gives its slot
 * back at once), behind a proxy the address is the hop the proxy appended (the client writes the
 * rest of X-Forwarded-For), and no request grows the table beyond the sockets really open.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { rawExchange, startOurs, TestClient, upgradeHead } from "./helpers";

describe("per-IP connection count", () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });
  async function setup(init: Parameters<typeof startOurs>[0]) {
    const t = await startOurs(init);
    cleanup.push(() => t.close());
    const connect = async (headers: Record<string, string> = {}) => {
      const c = await TestClient.connect(t.url, { headers });
      cleanup.push(() => c.close());
      return c;
    };
    return { t, connect };
  }

  it("does not count handshakes that ws refuses", async () => {
    const { t, connect } = await setup({ limits: { maxConnectionsPerIp: 5 } });
    for (let i = 0; i < 5; i++) {
      const { response } = await rawExchange(t.port, upgradeHead("/", ["Sec-WebSocket-Protocol: a b"]), 2000, true);
      assert.match(response, /^HTTP\/1\.1 400 /);
    }
    for (let i = 0; i < 5; i++) await connect();
    assert.equal(t.stats().connections, 5);
  });

  it("takes the hop the trusted proxy appended, so a forged X-Forwarded-For locks nobody out", async () => {
    const { t, connect } = await setup({ trustProxy: 1, limits: { maxConnectionsPerIp: 2 } });
    // The attacker writes the victim's address; the proxy appends the attacker's own.
    const forged = { "X-Forwarded-For": "10.9.9.9, 10.6.6.6" };
    await connect(forged);
    await connect(forged);
    const refused = await rawExchange(t.port, upgradeHead("/", ["X-Forwarded-For: 10.9.9.9, 10.6.6.6"]));
    assert.match(refused.response, /^HTTP\/1\.1 429 [^]*10\.6\.6\.6/);
    await connect({ "X-Forwarded-For": "10.9.9.9" });
    await connect({ "X-Forwarded-For": "10.9.9.9" });
  });

  it("--trust-proxy N counts N hops from the end", async () => {
    const { t, connect } = await setup({ trustProxy: 2, limits: { maxConnectionsPerIp: 1 } });
    await connect({ "X-Forwarded-For": "10.1.1.1, 10.2.2.2, 10.3.3.3" });
    const refused = await rawExchange(t.port, upgradeHead("/", ["X-Forwarded-For: 10.7.7.7, 10.2.2.2, 10.3.3.3"]));
    assert.match(refused.response, /^HTTP\/1\.1 429 [^]*from 10\.2\.2\.2 /);
  });

  it("10,000 refused upgrades with long forged headers leave no entry behind", async () => {
    const { t, connect } = await setup({ trustProxy: 1, limits: { maxConnectionsPerIp: 1 } });
    const long = "f".repeat(2000);
    let next = 0;
    const statuses = new Map<string, number>();
    const worker = async () => {
      while (next < 10_000) {
        const i = next++;
        const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
        const head = upgradeHead("/", [`X-Forwarded-For: ${long}${i}, ${ip}`, "Sec-WebSocket-Protocol: a b"]);
        const status = (await rawExchange(t.port, head, 10_000, true)).response.slice(9, 12);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    assert.deepEqual([...statuses], [["400", 10_000]]);
    assert.equal(t.stats().trackedIps, 0);
    await connect({ "X-Forwarded-For": "10.0.0.1" });
    assert.equal(t.stats().trackedIps, 1);
  });
});
