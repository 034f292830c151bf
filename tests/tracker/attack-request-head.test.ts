/**
 * Nothing in an HTTP request head may take the tracker down: a fuzzer sends thousands of request
 * lines, absolute and broken URLs, methods and headers (valid upgrades among them) over raw TCP to
 * a private tracker in its own process, which must still be running and answering /health.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, describe, it } from "node:test";
import { mulberry32 } from "../../bench/tracker-load/zipf";
import { mintToken } from "../../tracker/src/token";
import { rawExchange, spawnTracker } from "./helpers";

const SECRET = "fuzz-secret";

describe("request-head fuzzer", () => {
  it("survives thousands of malformed request heads with --secret set", async () => {
    const tracker = await spawnTracker(["--secret", SECRET]);
    after(() => tracker.stop());
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1e9);
    const rand = mulberry32(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
    const bytes = (n: number) =>
      Array.from({ length: n }, () => String.fromCharCode(Math.floor(rand() * 256))).join("");
    const token = mintToken(SECRET, { ttlSeconds: 600 });

    const methods = [
      "GET",
      "POST",
      "PUT",
      "HEAD",
      "OPTIONS",
      "CONNECT",
      "TRACE",
      "PATCH",
      "DELETE",
      "get",
      "G ET",
      "GET\t",
      "",
      "\x00",
      "PRI",
    ];
    const targets = [
      "/",
      "*",
      "/health",
      "/metrics",
      "/stats.json",
      `/?token=${token}`,
      "http://:80/?token=x",
      "http://:80/",
      "http://[::1/?token=x",
      "http://a b/",
      "http://127.0.0.1:99999/",
      "http://user:pw@host/?token=x",
      "//",
      "/%",
      "/%ZZ?token=%ZZ",
      "?token=",
      "/?token=a.b",
      "/?token=" + "A".repeat(5000),
      "ws://x/?token=x",
      "file:///etc/passwd",
      "http://ex.com:-1/",
      "http://%/",
      "/" + "a".repeat(9000),
      "\\",
      "/?token=x&token=y",
      "http://[v1.x]/",
    ];
    const versions = ["HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/9.9", "HTTP/1.1 extra", "", "http/1.1", "HTTP/1.1\x00"];
    const headerPool = [
      "Upgrade: websocket",
      "Connection: Upgrade",
      `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}`,
      "Sec-WebSocket-Version: 13",
      "Sec-WebSocket-Version: 8",
      "Sec-WebSocket-Protocol: a b",
      "Sec-WebSocket-Protocol: ,,",
      'Sec-WebSocket-Extensions: permessage-deflate; x="',
      "Origin: null",
      "Origin: http://:80",
      "Host: ",
      "Host: [::1",
      "X-Forwarded-For: " + "9".repeat(4000),
      "X-Forwarded-For: ::ffff:1.2.3.4, , ,",
      "Content-Length: -1",
      "Content-Length: 5",
      "Transfer-Encoding: chunked",
      "Transfer-Encoding: chunked, identity",
      "NoColonHeader",
      ": empty-name",
      "Upgrade: WebSocket, h2c",
      "Connection: keep-alive, Upgrade",
      "Expect: 100-continue",
      "Authorization: Bearer x",
      "Cookie: " + "c".repeat(3000),
      " folded",
      "Sec-WebSocket-Key: ===",
    ];
    const cases: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const method = rand() < 0.7 ? "GET" : pick(methods);
      const target = rand() < 0.1 ? bytes(1 + Math.floor(rand() * 40)) : pick(targets);
      const version = rand() < 0.8 ? "HTTP/1.1" : pick(versions);
      const headers = ["Host: 127.0.0.1"];
      if (rand() < 0.7)
        headers.push(
          "Upgrade: websocket",
          "Connection: Upgrade",
          `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}`,
          "Sec-WebSocket-Version: 13",
        );
      for (let k = Math.floor(rand() * 4); k > 0; k--) headers.push(pick(headerPool));
      if (rand() < 0.05) headers.push(`X-${bytes(8)}: ${bytes(30)}`);
      const end = rand() < 0.95 ? "\r\n\r\n" : pick(["\n\n", "\r\n", "", "\r\n\r\n\x00garbage"]);
      cases.push(`${method} ${target} ${version}\r\n${headers.join("\r\n")}${end}`);
    }
    // The request from the report first: an absolute URL without a host, with a valid upgrade.
    cases.unshift(
      `GET http://:80/?token=x HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );

    const statuses = new Map<string, number>();
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const { response, error } = await rawExchange(tracker.port, cases[next++], 1000);
        const status = error ? `error ${error.split(" ")[0]}` : response.slice(9, 12) || "(none)";
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));

    assert.equal(
      tracker.child.exitCode,
      null,
      `tracker exited (seed ${seed}); responses ${JSON.stringify([...statuses])}`,
    );
    assert.equal(statuses.get("error ECONNREFUSED"), undefined, `tracker went away (seed ${seed})`);
    const health = await fetch(`${tracker.httpUrl}/health`);
    assert.equal(health.status, 200);
    const first = await rawExchange(tracker.port, cases[0]);
    assert.match(first.response, /^HTTP\/1\.1 400 /, "an upgrade whose URL does not parse gets 400");
  });
});
