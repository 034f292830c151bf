// The HTTP byte counting behind player.stats() when hls.js's own loader fetches segments
// (P2P off, or segments PML leaves to hls.js): hls.js's real FetchLoader against a real server.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { createCountingLoader } from "../../sdk/src/engine/counting-loader";

// hls.js reads `self` (window or worker global); node's global is equivalent for its loaders.
(globalThis as { self?: unknown }).self ??= globalThis;
const { default: Hls, FetchLoader } = await import("hls.js");

const loaderConfig = {
  loadPolicy: { maxTimeToFirstByteMs: 5000, maxLoadTimeMs: 5000, timeoutRetry: null, errorRetry: null },
  timeout: 5000,
  maxRetry: 0,
  retryDelay: 0,
  maxRetryDelay: 0,
};

let server: Server;
let base = "";
before(async () => {
  server = createServer((req, res) => {
    if (req.url === "/seg-1.ts") res.end(Buffer.alloc(188 * 100, 0x47));
    else if (req.url === "/index.m3u8") res.end("#EXTM3U\n#EXT-X-TARGETDURATION:2\n");
    else res.writeHead(404).end("missing");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

function load(Loader: ReturnType<typeof createCountingLoader>, context: Record<string, unknown>) {
  const loader = new Loader(Hls.DefaultConfig);
  return new Promise<{ ok: boolean; bytes: number }>((resolve) => {
    loader.load(context as never, loaderConfig, {
      onSuccess: (response) =>
        resolve({
          ok: true,
          bytes:
            response.data instanceof ArrayBuffer
              ? response.data.byteLength
              : typeof response.data === "string"
                ? response.data.length
                : 0,
        }),
      onError: () => resolve({ ok: false, bytes: 0 }),
      onTimeout: () => resolve({ ok: false, bytes: 0 }),
    });
  });
}

describe("counting loader", () => {
  it("reports each media segment's URL and bytes and still hands the data to hls.js", async () => {
    const seen: Array<[string, number]> = [];
    const Loader = createCountingLoader(FetchLoader, {
      onSegment: (url, bytes) => seen.push([url, bytes]),
      onFailure: (url) => assert.fail(`${url} reported as failed`),
    });
    const result = await load(Loader, {
      url: `${base}/seg-1.ts`,
      responseType: "arraybuffer",
      type: "main",
      frag: { sn: 1 },
      part: null,
    });
    assert.deepEqual(result, { ok: true, bytes: 18800 });
    assert.deepEqual(seen, [[`${base}/seg-1.ts`, 18800]]);
  });

  it("does not count playlists or failed requests, and reports the failures", async () => {
    const seen: Array<[string, number]> = [];
    const failed: string[] = [];
    const Loader = createCountingLoader(FetchLoader, {
      onSegment: (url, bytes) => seen.push([url, bytes]),
      onFailure: (url, reason) => failed.push(`${reason} ${url}`),
    });
    const playlist = await load(Loader, { url: `${base}/index.m3u8`, responseType: "text", type: "level" });
    assert.equal(playlist.ok, true);
    const missing = await load(Loader, {
      url: `${base}/seg-404.ts`,
      responseType: "arraybuffer",
      type: "main",
      frag: { sn: 2 },
      part: null,
    });
    assert.equal(missing.ok, false);
    assert.deepEqual(seen, []);
    assert.deepEqual(failed, [`HTTP 404 Not Found ${base}/seg-404.ts`]);
  });
});
