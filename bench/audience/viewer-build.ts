import { mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { rollup, type RollupOptions, type OutputOptions } from "rollup";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CONFIG = join(ROOT, "bench/rollup.viewer.mjs");
const SOURCES_DIR = join(ROOT, "bench/audience");
/** The virtual viewer as plain JavaScript (bench/rollup.viewer.mjs). */
export const VIEWER_BUNDLE = join(ROOT, "dist/bench/virtual-viewer.mjs");
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
 * Builds dist/bench/virtual-viewer.mjs unless it is newer than its sources (bench/audience, the
 * rollup config, the installed packages), and checks that the SDK's engine build exists.
 */
export async function buildViewerBundle(): Promise<string> {
  if (mtime(ENGINE_BUILD) === 0) throw new Error(`${ENGINE_BUILD} is missing: run "npm run build" first`);
  const sources = [
    CONFIG,
    join(ROOT, "package-lock.json"),
    ...readdirSync(SOURCES_DIR)
      .filter((f) => f.endsWith(".ts"))
      .map((f) => join(SOURCES_DIR, f)),
  ];
  if (mtime(VIEWER_BUNDLE) > Math.max(...sources.map(mtime))) return VIEWER_BUNDLE;
  const { default: config } = (await import(CONFIG)) as { default: RollupOptions & { output: OutputOptions } };
  const bundle = await rollup({ ...config, onwarn: () => undefined });
  try {
    const { output } = await bundle.generate(config.output);
    mkdirSync(join(ROOT, "dist/bench"), { recursive: true });
    // Write then rename: a viewer starting at the same time never loads half a file.
    const partial = `${VIEWER_BUNDLE}.${process.pid}.tmp`;
    writeFileSync(partial, output[0].code);
    renameSync(partial, VIEWER_BUNDLE);
  } finally {
    await bundle.close();
  }
  return VIEWER_BUNDLE;
}
