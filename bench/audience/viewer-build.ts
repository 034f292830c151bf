import { mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { rollup, type RollupOptions, type OutputOptions } from "rollup";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CONFIG = join(ROOT, "bench/rollup.viewer.mjs");
const SOURCES_DIR = join(ROOT, "bench/audience");
/** The virtual viewer as plain JavaScript (bench/rollup.viewer.mjs). */
export const VIEWER_BUNDLE = join(ROOT, "dist/bench/virtual-viewer.mjs");
/** Stock PML for the pml-defaults mode, built beside it. */
export const STOCK_PML_BUNDLE = join(ROOT, "dist/bench/stock-pml.mjs");
/** The SDK's engine build every virtual viewer plays through (`npm run build`). */
export const ENGINE_BUILD = join(ROOT, "sdk/dist/swarmcast-engine.mjs");

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * Builds dist/bench/virtual-viewer.mjs (and, with `stockPml`, dist/bench/stock-pml.mjs, which
 * only the pml-defaults mode loads) unless it is newer than its sources (bench/audience, the
 * SDK's engine sources, the rollup configs, the installed packages), and checks that the SDK's
 * engine build exists.
 */
export async function buildViewerBundle(options: { stockPml?: boolean } = {}): Promise<string> {
  if (mtime(ENGINE_BUILD) === 0) throw new Error(`${ENGINE_BUILD} is missing: run "npm run build" first`);
  const sources = [
    CONFIG,
    join(ROOT, "rollup.config.mjs"),
    join(ROOT, "package-lock.json"),
    ...tsFiles(SOURCES_DIR),
    ...tsFiles(join(ROOT, "sdk/src/engine")),
  ];
  const newestSource = Math.max(...sources.map(mtime));
  const wanted = [VIEWER_BUNDLE, ...(options.stockPml ? [STOCK_PML_BUNDLE] : [])];
  const stale = new Set(wanted.filter((file) => mtime(file) <= newestSource));
  if (stale.size === 0) return VIEWER_BUNDLE;
  const { default: configs } = (await import(CONFIG)) as {
    default: Array<RollupOptions & { output: OutputOptions & { file: string } }>;
  };
  mkdirSync(join(ROOT, "dist/bench"), { recursive: true });
  for (const config of configs.filter((c) => stale.has(c.output.file))) {
    const bundle = await rollup({ ...config, onwarn: () => undefined });
    try {
      const { output } = await bundle.generate(config.output);
      // Write then rename: a viewer starting at the same time never loads half a file.
      const partial = `${config.output.file}.${process.pid}.tmp`;
      writeFileSync(partial, output[0].code);
      renameSync(partial, config.output.file);
    } finally {
      await bundle.close();
    }
  }
  return VIEWER_BUNDLE;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".ts"))
    .map((f) => join(dir, f));
}
