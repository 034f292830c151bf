/**
 * The files the demo page needs, by URL: a fixed table, so no request path ever reaches the
 * file system. Page scripts are TypeScript (demo/page/*.ts) transpiled on request; every body
 * is cached by modification time and gzipped once.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import ts from "typescript";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PAGE_DIR = join(ROOT, "demo", "page");
const require = createRequire(import.meta.url);

export interface Asset {
  body: Buffer;
  gzipped: Buffer | null;
  etag: string;
  contentType: string;
  /** Shown to a person when the file is missing (e.g. the SDK is not built yet). */
  hint?: string;
}

interface AssetSource {
  file: string;
  contentType: string;
  transpile?: boolean;
  hint?: string;
}

const JS = "text/javascript; charset=utf-8";

function echartsFile(): string {
  return join(dirname(require.resolve("echarts/package.json")), "dist", "echarts.min.js");
}

/** Every module of demo/page, as the browser imports it: /app/<name>.js. */
function pageScripts(): Record<string, AssetSource> {
  const out: Record<string, AssetSource> = {};
  for (const file of readdirSync(PAGE_DIR)) {
    if (!file.endsWith(".ts") || file.endsWith(".d.ts")) continue;
    out[`/app/${file.slice(0, -3)}.js`] = { file: join(PAGE_DIR, file), contentType: JS, transpile: true };
  }
  return out;
}

const SOURCES: Record<string, AssetSource> = {
  "/": { file: join(PAGE_DIR, "index.html"), contentType: "text/html; charset=utf-8" },
  "/index.html": { file: join(PAGE_DIR, "index.html"), contentType: "text/html; charset=utf-8" },
  "/style.css": { file: join(PAGE_DIR, "style.css"), contentType: "text/css; charset=utf-8" },
  "/embed.html": { file: join(ROOT, "demo", "embed.html"), contentType: "text/html; charset=utf-8" },
  "/swarmcast.js": {
    file: join(ROOT, "sdk", "dist", "swarmcast.js"),
    contentType: JS,
    hint: "run `npm run build` first (npm start does it for you)",
  },
  "/swarmcast.js.map": { file: join(ROOT, "sdk", "dist", "swarmcast.js.map"), contentType: "application/json" },
  "/vendor/echarts.min.js": { file: echartsFile(), contentType: JS, hint: "run `npm ci` first" },
  ...pageScripts(),
};

const cache = new Map<string, { mtimeMs: number; asset: Asset }>();

function transpile(source: string, fileName: string): string {
  const out = ts.transpileModule(source, {
    fileName,
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      sourceMap: false,
      inlineSourceMap: true,
      inlineSources: true,
    },
  });
  return out.outputText;
}

/** Whether `path` names an asset (whether or not its file exists right now). */
export function isAssetPath(path: string): boolean {
  return Object.hasOwn(SOURCES, path);
}

/**
 * The asset at `path`. Throws an Error whose message says what to do when the file is
 * missing; returns undefined for a path that is not an asset.
 */
export function loadAsset(path: string): Asset | undefined {
  if (!isAssetPath(path)) return undefined;
  const source = SOURCES[path];
  let mtimeMs: number;
  try {
    mtimeMs = statSync(source.file).mtimeMs;
  } catch {
    throw new Error(`${source.file} is missing${source.hint ? `: ${source.hint}` : ""}`);
  }
  const cached = cache.get(path);
  if (cached && cached.mtimeMs === mtimeMs) return cached.asset;
  let body = readFileSync(source.file);
  if (source.transpile) body = Buffer.from(transpile(body.toString("utf8"), source.file));
  const compressible = body.length > 1024;
  const asset: Asset = {
    body,
    gzipped: compressible ? gzipSync(body) : null,
    etag: `"${body.length.toString(36)}-${Math.round(mtimeMs).toString(36)}"`,
    contentType: source.contentType,
  };
  cache.set(path, { mtimeMs, asset });
  return asset;
}

/** Paths of the files a working page needs, for a check at start-up. */
export function requiredAssetFiles(): Array<{ path: string; file: string; hint?: string }> {
  return ["/", "/swarmcast.js", "/vendor/echarts.min.js"].map((path) => ({
    path,
    file: SOURCES[path].file,
    hint: SOURCES[path].hint,
  }));
}
