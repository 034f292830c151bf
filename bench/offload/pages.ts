import { mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { rollup, type RollupOptions, type OutputOptions } from "rollup";
import type { Mode } from "./options.js";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PAGES_DIR = join(ROOT, "bench/pages");
const CONFIG = join(ROOT, "bench/rollup.bench.mjs");
export const BENCH_DIST = join(ROOT, "dist/bench");
export const SDK_SCRIPT = join(ROOT, "sdk/dist/swarmcast.js");

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * Builds the bench pages the given modes need into dist/bench, each unless it is newer than
 * every source (the page sources, the rollup config and the installed PML/hls.js versions).
 */
export async function buildBenchPages(modes: readonly Mode[]): Promise<void> {
  const { default: configs } = (await import(CONFIG)) as { default: Array<RollupOptions & { output: OutputOptions }> };
  const sources = [
    CONFIG,
    join(ROOT, "package-lock.json"),
    ...readdirSync(PAGES_DIR)
      .filter((f) => f.endsWith(".ts"))
      .map((f) => join(PAGES_DIR, f)),
  ];
  const newestSource = Math.max(...sources.map(mtime));
  // Only the pml-defaults mode loads the PML bundle, by far the slowest to build.
  const needed = configs.filter(
    (c) => modes.includes("pml-defaults") || !String(c.output.file).endsWith("pml-page.js"),
  );
  const stale = needed.filter((c) => mtime(c.output.file as string) <= newestSource);
  if (stale.length === 0) return;
  mkdirSync(BENCH_DIST, { recursive: true });
  for (const config of stale) {
    const bundle = await rollup({ ...config, onwarn: () => undefined });
    try {
      const { output } = await bundle.generate(config.output);
      const file = config.output.file as string;
      // Write then rename: a bench or test running at the same time never loads half a file.
      const partial = `${file}.${process.pid}.tmp`;
      writeFileSync(partial, output[0].code);
      renameSync(partial, file);
    } finally {
      await bundle.close();
    }
  }
}

/** The SDK's script-tag build must exist: `npm run bench` builds it first. */
export function checkSdkBuild(): void {
  if (mtime(SDK_SCRIPT) === 0) {
    throw new Error(`${SDK_SCRIPT} is missing: run "npm run build" first (npm run bench does)`);
  }
}
