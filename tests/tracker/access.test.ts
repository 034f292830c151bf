/** Access control (tokens, origins), draining, and the operator's CLI. */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { waitFor } from "../../devkit/wait";
import { TOKEN_QUERY_PARAM } from "../../shared/protocol";
import { mintToken, verifyToken } from "../../tracker/src/token";
import { OPTION_SPECS } from "../../tracker/src/options";
import { announce, binId, getJson, isReply, metricValue, refusedUpgrade, startOurs, TestClient } from "./helpers";

const root = fileURLToPath(new URL("../..", import.meta.url));
const trackerBin = `${root}tracker/bin/swarmcast-tracker.mjs`;
const tokenBin = `${root}tracker/bin/swarmcast-token.mjs`;

describe("tokens", () => {
  it("mints tokens that verify until they expire", () => {
    const now = 1_700_000_000;
    const t = mintToken("s3cret", { ttlSeconds: 60, sub: "viewer-1", now });
    const [payload, sig] = t.split(".");
    assert.deepEqual(JSON.parse(Buffer.from(payload, "base64url").toString()), { exp: now + 60, sub: "viewer-1" });
    assert.ok(sig.length > 20);
    const check = verifyToken("s3cret", t, now + 1);
    assert.ok(check.ok);
    assert.deepEqual(check.claims, { exp: now + 60, sub: "viewer-1" });
    assert.deepEqual({ ...check.grant, key: "" }, { key: "", exp: now + 60, infoHashes: null, sub: "viewer-1" });
    assert.equal((verifyToken("s3cret", t, now + 61) as { reason: string }).reason, "expired_token");
    assert.equal((verifyToken("other", t, now) as { reason: string }).reason, "bad_signature");
    const forged = `${Buffer.from(JSON.stringify({ exp: now + 9999 })).toString("base64url")}.${sig}`;
    assert.equal((verifyToken("s3cret", forged, now) as { reason: string }).reason, "bad_signature");
    assert.equal((verifyToken("s3cret", "garbage", now) as { reason: string }).reason, "malformed_token");
    assert.equal((verifyToken("s3cret", "", now) as { reason: string }).reason, "missing_token");
    assert.throws(() => mintToken("", { ttlSeconds: 1 }), /secret/);
    assert.throws(() => mintToken("s", { ttlSeconds: -1 }), /ttlSeconds/);
  });

  it("private tracker: refuses missing, forged and expired tokens at upgrade, accepts valid ones", async () => {
    const secret = "tracker-secret";
    const t = await startOurs({ secret });
    try {
      const url = (tok: string) => `${t.url}/?${TOKEN_QUERY_PARAM}=${encodeURIComponent(tok)}`;
      const missing = await refusedUpgrade(t.url);
      assert.equal(missing.status, 401);
      assert.match(missing.body, /requires an access token/);
      const forged = await refusedUpgrade(url(mintToken("wrong-secret", { ttlSeconds: 60 })));
      assert.equal(forged.status, 403);
      assert.match(forged.body, /signature/);
      const expired = await refusedUpgrade(url(mintToken(secret, { ttlSeconds: 10, now: Date.now() / 1000 - 100 })));
      assert.equal(expired.status, 401);
      assert.match(expired.body, /expired/);

      const c = await TestClient.connect(url(mintToken(secret, { ttlSeconds: 60, sub: "v" })));
      c.send(announce(binId("tok-ih"), binId("tok-p"), { event: "started" }));
      await c.next(isReply);
      c.close();
      const m = await t.metrics();
      for (const reason of ["missing_token", "bad_signature", "expired_token"]) {
        assert.equal(metricValue(m, `swarmcast_tracker_rejected_connections_total{reason="${reason}"}`), 1, reason);
      }
    } finally {
      await t.close();
    }
  });
});

describe("origins", () => {
  it("accepts only listed Origin headers", async () => {
    const t = await startOurs({ origins: ["https://good.example"] });
    try {
      const c = await TestClient.connect(t.url, { origin: "https://good.example" });
      c.close();
      const bad = await refusedUpgrade(t.url, { origin: "https://evil.example" });
      assert.equal(bad.status, 403);
      assert.match(bad.body, /evil\.example.*not allowed/);
      assert.equal((await refusedUpgrade(t.url)).status, 403);
    } finally {
      await t.close();
    }
  });
});

describe("drain", () => {
  it("reports 503, refuses new sockets, closes open ones with 1001", async () => {
    const t = await startOurs({ drainGrace: 0.6 });
    const c = await TestClient.connect(t.url);
    assert.equal((await getJson(`${t.httpUrl}/health`)).status, 200);
    const closing = t.close();
    const h = await waitFor(
      async () => {
        const health = await getJson(`${t.httpUrl}/health`);
        return health.status === 503 && health;
      },
      { what: "/health to report the drain", timeout: 3000, interval: 20 },
    );
    assert.equal(h.status, 503);
    assert.equal(h.body.status, "draining");
    assert.equal((await refusedUpgrade(t.url)).status, 503);
    assert.equal(await c.closed(), 1001);
    await closing;
  });
});

describe("CLI", () => {
  it("lists every option and its env variable in --help", () => {
    const r = spawnSync(process.execPath, [trackerBin, "--help"], { encoding: "utf8", timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    for (const s of OPTION_SPECS) {
      assert.ok(r.stdout.includes(`--${s.flag}`), s.flag);
      assert.ok(r.stdout.includes(s.env), s.env);
    }
  });

  it("names the option at fault", () => {
    for (const [args, env, expected] of [
      [["--port", "abc"], {}, /--port: expected an integer/],
      [["--max-payload", "-5"], {}, /--max-payload: must be ≥/],
      [["--log-level", "loud"], {}, /--log-level: expected one of/],
      [["--bogus"], {}, /--bogus: unknown option/],
      [
        [],
        { SWARMCAST_TRACKER_RATE_LIMIT: "1", SWARMCAST_TRACKER_MESSAGE_RATE: "fast" },
        /SWARMCAST_TRACKER_MESSAGE_RATE: expected a number/,
      ],
      [["--cert", "/nonexistent.pem"], {}, /--key: --cert and --key must be given together/],
    ] as const) {
      const r = spawnSync(process.execPath, [trackerBin, "--port", "0", ...args], {
        encoding: "utf8",
        timeout: 20_000,
        env: { ...process.env, ...env },
      });
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, expected);
    }
  });

  it("serves from the bin shim and drains on SIGTERM with exit 0", async () => {
    const child = spawn(process.execPath, [trackerBin, "--host", "127.0.0.1", "--port", "0", "--log-level", "info"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    after(() => child.kill("SIGKILL"));
    let out = "";
    child.stdout.setEncoding("utf8");
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no listening line: ${out}`)), 20_000);
      child.stdout.on("data", (d: string) => {
        out += d;
        const m = /"url":"(ws:\/\/[^"]+)"/.exec(out);
        if (m) {
          clearTimeout(t);
          resolve(m[1]);
        }
      });
    });
    const c = await TestClient.connect(url);
    c.send(announce(binId("cli-ih"), binId("cli-p"), { event: "started" }));
    await c.next(isReply);
    child.kill("SIGTERM");
    assert.equal(await c.closed(), 1001);
    const [code] = await once(child, "exit");
    assert.equal(code, 0);
  });

  it("mints a token from the command line", () => {
    const r = spawnSync(process.execPath, [tokenBin, "--secret", "abc", "--ttl", "60", "--sub", "me"], {
      encoding: "utf8",
      timeout: 20_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const check = verifyToken("abc", r.stdout.trim());
    assert.ok(check.ok && check.claims.sub === "me");
    const bad = spawnSync(process.execPath, [tokenBin, "--secret", "abc", "--ttl", "soon"], {
      encoding: "utf8",
      timeout: 20_000,
    });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--ttl/);
  });
});
