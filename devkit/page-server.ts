import { createReadStream, statSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

export interface PageServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Static files for browser tests: `routes` maps a URL prefix ("/dist/") to a folder relative
 * to the repository root ("dist"). Paths cannot escape their folder.
 */
export async function startPageServer(routes: Record<string, string>, host = "127.0.0.1"): Promise<PageServer> {
  const mounts = Object.entries(routes).map(([prefix, dir]) => ({ prefix, dir: resolve(ROOT, dir) }));
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://pages").pathname);
    const mount = mounts.find((m) => path.startsWith(m.prefix));
    const file = mount && normalize(join(mount.dir, path.slice(mount.prefix.length) || "index.html"));
    if (!mount || !file || (file !== mount.dir && !file.startsWith(mount.dir + sep))) {
      res.writeHead(404).end("not found");
      return;
    }
    let size: number;
    try {
      const stat = statSync(file);
      if (!stat.isFile()) throw new Error("not a file");
      size = stat.size;
    } catch {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, {
      "content-type": CONTENT_TYPES[extname(file)] ?? "application/octet-stream",
      "content-length": size,
      "cache-control": "no-store",
    });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
