// The demo server over real HTTP and WebSockets: page assets, /config.json, the proxies to the
// local origin and tracker, option errors, and the CLI's start and Ctrl-C.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { request } from "node:http";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import WebSocket from "ws";
import { startOrigin } from "../../devkit/origin/index.js";
import { DemoOptionError, parseDemoArgs, resolveDemoOptions, startDemo } from "../../demo/index.js";
import { startTracker } from "../../tracker/src/index.js";
import { textOf } from "../tracker/helpers.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function get(url: string, init: { method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? "GET", headers: init.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end();
  });
}

function announce(ws: WebSocket, infoHash: string, peerId: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    ws.once("message", (data) => resolve(JSON.parse(textOf(data))));
    ws.once("error", reject);
    ws.send(
      JSON.stringify({
        action: "announce",
        info_hash: infoHash,
        peer_id: peerId,
        numwant: 5,
        event: "started",
        offers: [],
      }),
    );
  });
}

describe("startDemo with the bundled stream and local tracker", () => {
  test(
    "serves the page, its scripts, config, origin and tracker through one address",
    { timeout: 20_000 },
    async (t) => {
      const demo = await startDemo({ port: 0 });
      t.after(() => demo.close());
      const base = demo.url.replace(/\/$/, "");
      assert.match(demo.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);

      const config = JSON.parse((await get(`${base}/config.json`)).body.toString());
      assert.deepEqual(config, {
        src: "/origin/live/index.m3u8",
        tracker: "/tracker",
        swarm: "swarmcast-demo",
        localStream: true,
        localTracker: true,
        swarmStats: "/swarm.json",
        version: config.version,
      });

      const page = await get(`${base}/`);
      assert.equal(page.status, 200);
      assert.match(String(page.headers["content-type"]), /text\/html/);
      assert.match(page.body.toString(), /<script src="\/swarmcast\.js"><\/script>/);
      assert.match(page.body.toString(), /<script src="\/vendor\/echarts\.min\.js"><\/script>/);

      const main = await get(`${base}/app/main.js`);
      assert.equal(main.status, 200);
      assert.match(String(main.headers["content-type"]), /javascript/);
      assert.match(main.body.toString(), /from "\.\/settings\.js"/);
      assert.doesNotMatch(
        main.body.toString(),
        /import type|: SwarmcastStats\)/,
        "served as JavaScript, types stripped",
      );

      const sdk = await get(`${base}/swarmcast.js`, { headers: { "accept-encoding": "gzip" } });
      assert.equal(sdk.status, 200);
      assert.equal(sdk.headers["content-encoding"], "gzip");
      assert.match(gunzipSync(sdk.body).toString(), /Swarmcast/);
      const again = await get(`${base}/swarmcast.js`, { headers: { "if-none-match": String(sdk.headers.etag) } });
      assert.equal(again.status, 304);

      const echarts = await get(`${base}/vendor/echarts.min.js`, { method: "HEAD" });
      assert.equal(echarts.status, 200);
      assert.ok(Number(echarts.headers["content-length"]) > 100_000);

      assert.equal((await get(`${base}/nope`)).status, 404);
      assert.equal((await get(`${base}/app/../../package.json`)).status, 404);
      assert.equal((await get(`${base}/app/settings.ts`)).status, 404);
      assert.equal((await get(`${base}/`, { method: "POST" })).status, 405);

      const playlist = await get(`${base}/origin/live/index.m3u8`);
      assert.equal(playlist.status, 200);
      assert.equal(playlist.headers["access-control-allow-origin"], "*");
      const text = playlist.body.toString();
      assert.match(text, /^#EXTM3U/);
      const segment = text.split("\n").find((line) => line.endsWith(".ts"));
      assert.ok(segment, text);
      const part = await get(`${base}/origin/live/${segment}`, { headers: { range: "bytes=0-187" } });
      assert.equal(part.status, 206);
      assert.equal(part.body.length, 188);
      assert.equal(part.body[0], 0x47, "an MPEG-TS sync byte");
      assert.ok((demo.origin?.egress().segmentBytes ?? 0) >= 188, "the origin counted the proxied bytes");

      const embed = (
        await get(`${base}/embed.html?swarm=${encodeURIComponent('"><script>')}`, {
          headers: { host: "demo.test:8080" },
        })
      ).body.toString();
      assert.match(embed, /data-swarmcast-src="http:\/\/demo\.test:8080\/origin\/live\/index\.m3u8"/);
      assert.match(embed, /data-swarmcast-tracker="ws:\/\/demo\.test:8080\/tracker"/);
      assert.match(embed, /data-swarmcast-ice=""/);
      assert.match(embed, /data-swarmcast-swarm="&quot;&gt;&lt;script&gt;"/);
      assert.doesNotMatch(embed, /"><script>/);

      const noAudience = { cdn: 0, peers: 0, offloadRatio: 0, beacons: 0 };
      assert.deepEqual(JSON.parse((await get(`${base}/swarm.json`)).body.toString()), {
        swarms: 0,
        peers: 0,
        audience: noAudience,
      });
      assert.match(embed, /data-swarmcast-stats-beacon="on"/);
      const ws = new WebSocket(`${base.replace("http", "ws")}/tracker`);
      await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
      const reply = await announce(ws, "h".repeat(20), "p".repeat(20));
      assert.equal(reply.action, "announce");
      assert.equal(typeof reply.interval, "number");
      assert.deepEqual(JSON.parse((await get(`${base}/swarm.json`)).body.toString()), {
        swarms: 1,
        peers: 1,
        audience: noAudience,
      });
      // A viewer's stats beacon reaches the tracker through the demo's address.
      const beacon = await fetch(`${base}/beacon`, {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: JSON.stringify({ swarm: "swarmcast-demo", cdn: 1000, peers: 3000, uploaded: 0 }),
      });
      assert.equal(beacon.status, 204);
      assert.deepEqual(JSON.parse((await get(`${base}/swarm.json`)).body.toString()).audience, {
        cdn: 1000,
        peers: 3000,
        offloadRatio: 0.75,
        beacons: 1,
      });

      const stray = new WebSocket(`${base.replace("http", "ws")}/elsewhere`);
      const refused = await new Promise<string>((resolve) =>
        stray
          .once("unexpected-response", (_req, res) => resolve(String(res.statusCode)))
          .once("error", (e) => resolve(e.message)),
      );
      assert.match(refused, /404/);

      const closed = new Promise<void>((resolve) => ws.once("close", () => resolve()));
      await demo.tracker?.close();
      await closed;
      const late = new WebSocket(`${base.replace("http", "ws")}/tracker`);
      const gone = await new Promise<string>((resolve) =>
        late
          .once("unexpected-response", (_req, res) => resolve(String(res.statusCode)))
          .once("error", (e) => resolve(e.message)),
      );
      assert.match(gone, /502/, "a tracker that is down reads as a bad gateway, not a hang");
      await demo.close();
      await assert.rejects(get(`${base}/config.json`), /ECONNREFUSED/);
    },
  );

  test("a port in use is reported against --port", { timeout: 20_000 }, async (t) => {
    const first = await startDemo({ port: 0 });
    t.after(() => first.close());
    await assert.rejects(startDemo({ port: first.options.port }), (err: unknown) => {
      assert.ok(err instanceof DemoOptionError);
      assert.equal(err.option, "--port");
      assert.match(err.message, /already in use/);
      return true;
    });
  });
});

test("startDemo with --stream and --tracker: nothing local is started or proxied", { timeout: 20_000 }, async (t) => {
  const origin = await startOrigin({ port: 0 });
  t.after(() => origin.close());
  const tracker = await startTracker({ host: "127.0.0.1", port: 0, logLevel: "silent" });
  t.after(() => tracker.close());
  const demo = await startDemo({ port: 0, stream: origin.liveUrl(), tracker: tracker.url });
  t.after(() => demo.close());
  const base = demo.url.replace(/\/$/, "");
  assert.equal(demo.origin, null);
  assert.equal(demo.tracker, null);
  const config = JSON.parse((await get(`${base}/config.json`)).body.toString());
  assert.equal(config.src, origin.liveUrl());
  assert.equal(config.tracker, tracker.url);
  assert.equal(config.swarm, null);
  assert.equal(config.swarmStats, null);
  assert.equal((await get(`${base}/swarm.json`)).status, 404);
  assert.equal((await get(`${base}/origin/live/index.m3u8`)).status, 404);
  const embed = (await get(`${base}/embed.html`)).body.toString();
  assert.ok(embed.includes(`data-swarmcast-src="${origin.liveUrl()}"`));
  assert.ok(embed.includes(`data-swarmcast-tracker="${tracker.url}"`));
  assert.doesNotMatch(embed, /data-swarmcast-ice/);
});

describe("options", () => {
  const fails = (argv: string[], option: string, pattern: RegExp) => {
    assert.throws(
      () => parseDemoArgs(argv),
      (err: unknown) => {
        assert.ok(err instanceof DemoOptionError, String(err));
        assert.equal(err.option, option);
        assert.match(err.message, pattern);
        return true;
      },
    );
  };

  test("each bad value names its option", () => {
    fails(["--port", "abc"], "--port", /integer 0-65535, got "abc"/);
    fails(["--port", "70000"], "--port", /0-65535/);
    fails(["--port", "-1"], "--port", /./);
    fails(["--stream", "ftp://x/y.m3u8"], "--stream", /http\(s\).*protocol ftp:/);
    fails(["--stream", "not a url"], "--stream", /not a URL/);
    fails(["--stream", ""], "--stream", /empty/);
    fails(["--tracker", "http://t.example"], "--tracker", /ws:\/\/ or wss:\/\//);
    fails(["--bogus"], "--bogus", /--help/);
    fails(["extra"], "arguments", /--help/);
    assert.throws(() => resolveDemoOptions({ host: " " }), /--host/);
    assert.throws(() => resolveDemoOptions({ port: 1.5 }), /--port/);
    assert.throws(() => resolveDemoOptions({ nope: 1 } as never), /--nope: unknown option/);
  });

  test("good values", () => {
    assert.deepEqual(parseDemoArgs(["--help"]), { help: true });
    assert.deepEqual(
      parseDemoArgs([
        "--port",
        "9000",
        "--host",
        "0.0.0.0",
        "--stream",
        "https://cdn.example/a.m3u8",
        "--tracker",
        "wss://t.example",
      ]),
      {
        help: false,
        options: { port: 9000, host: "0.0.0.0", stream: "https://cdn.example/a.m3u8", tracker: "wss://t.example" },
      },
    );
    assert.deepEqual(parseDemoArgs([]), {
      help: false,
      options: { port: 8080, host: "127.0.0.1", stream: "", tracker: "" },
    });
  });
});

describe("CLI", () => {
  const tsx = ["--import", "tsx", "demo/server.ts"];

  test("a bad option exits 2 with a message naming it", { timeout: 20_000 }, () => {
    const run = spawnSync(process.execPath, [...tsx, "--port", "eighty"], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 15_000,
    });
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /--port: expected an integer 0-65535, got "eighty"/);
    const help = spawnSync(process.execPath, [...tsx, "--help"], { cwd: ROOT, encoding: "utf8", timeout: 15_000 });
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--stream URL/);
  });

  test("prints one URL, serves it, and stops cleanly on SIGINT", { timeout: 30_000 }, async () => {
    const child = spawn(process.execPath, [...tsx, "--port", "0"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 20_000);
        child.stdout.on("data", () => {
          const match = /open (http:\/\/\S+\/)/.exec(out);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        });
      });
      assert.equal(out.match(/http:\/\//g)?.length, 1, `one URL only: ${out}`);
      assert.equal((await get(`${url}config.json`)).status, 200);
      child.kill("SIGINT");
      assert.equal(await exited, 0, out);
      await assert.rejects(get(`${url}config.json`), /ECONNREFUSED/);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
