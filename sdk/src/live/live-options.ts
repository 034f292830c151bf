import type { LiveEdgeConfig } from "./edge-fetcher";

/** The user-settable part of the live edge fetcher (the `liveEdge` option). */
export type LiveEdgeOptions = Partial<
  Pick<LiveEdgeConfig, "enabled" | "reserveSec" | "maxSpreadSec" | "keepBehindSec" | "seedCopies" | "relayMinCopies">
>;

const NUMBER_KEYS = ["reserveSec", "maxSpreadSec", "keepBehindSec"] as const;

/**
 * Validates the `liveEdge` option and merges it over `defaults`. `fail(message)` throws the
 * caller's option error; every message names the field.
 */
export function resolveLiveEdge(
  input: unknown,
  defaults: LiveEdgeConfig,
  fail: (message: string) => never,
): LiveEdgeConfig {
  if (input === undefined) return { ...defaults };
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    fail(
      `option "liveEdge" must be an object like { enabled, reserveSec, maxSpreadSec, keepBehindSec, seedCopies, relayMinCopies }`,
    );
  }
  const o = input as Record<string, unknown>;
  const known = ["enabled", ...NUMBER_KEYS, "seedCopies", "relayMinCopies"];
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) fail(`unknown option "liveEdge.${key}"; known: ${known.join(", ")}`);
  }
  if (o.enabled !== undefined && typeof o.enabled !== "boolean") {
    fail(`option "liveEdge.enabled" must be true or false, got ${JSON.stringify(o.enabled)}`);
  }
  for (const key of NUMBER_KEYS) {
    const v = o[key];
    if (v !== undefined && (typeof v !== "number" || !Number.isFinite(v) || v < 0)) {
      fail(
        `option "liveEdge.${key}" must be a number of seconds ≥ 0, got ${typeof v === "number" ? String(v) : JSON.stringify(v)}`,
      );
    }
  }
  const copies = o.seedCopies;
  if (copies !== undefined && (typeof copies !== "number" || !Number.isFinite(copies) || copies < 1)) {
    fail(
      `option "liveEdge.seedCopies" must be a number ≥ 1 (copies of a segment sent within its duration), got ${typeof copies === "number" ? String(copies) : JSON.stringify(copies)}`,
    );
  }
  const relay = o.relayMinCopies;
  if (relay !== undefined && (typeof relay !== "number" || !Number.isFinite(relay) || relay < 0)) {
    fail(
      `option "liveEdge.relayMinCopies" must be a number ≥ 0 (copies of a segment sent within its duration; 0: never relay), got ${typeof relay === "number" ? String(relay) : JSON.stringify(relay)}`,
    );
  }
  return { ...defaults, ...(o as LiveEdgeOptions) };
}
