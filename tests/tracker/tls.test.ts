/** Built-in TLS: --cert/--key serve wss:// and https:// on the same port. */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { announce, binId, isReply, startOurs, TestClient } from "./helpers";

describe("built-in TLS", () => {
  it("serves wss:// and https:// from PEM files", async () => {
    const dir = mkdtempSync(join(tmpdir(), "swarmcast-tls-"));
    const cert = join(dir, "cert.pem");
    const key = join(dir, "key.pem");
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
      ],
      { stdio: "ignore" },
    );
    const t = await startOurs({ cert, key });
    try {
      assert.match(t.url, /^wss:\/\//);
      const c = await TestClient.connect(t.url, { ca: readFileSync(cert) });
      const ih = binId("tls-ih");
      c.send(announce(ih, binId("tls-p"), { event: "started" }));
      assert.equal((await c.next(isReply)).info_hash, ih);
      c.close();
      const status = await new Promise<number>((resolve, reject) => {
        https
          .get(`${t.httpUrl}/health`, { rejectUnauthorized: false }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
          .on("error", reject);
      });
      assert.equal(status, 200);
    } finally {
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
