// Where a Chromium for the tests can be: the one CHROMIUM_PATH names, the system's, or one
// Playwright's installer put in its cache. Plain JavaScript so the test set-up can use it
// before anything is built.
import { existsSync, readdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

const SYSTEM_PATHS = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];

/** Playwright's browser cache (PLAYWRIGHT_BROWSERS_PATH, else ~/.cache/ms-playwright). */
export function playwrightCache() {
  const configured = process.env.PLAYWRIGHT_BROWSERS_PATH;
  return configured && configured !== "0" ? configured : join(homedir(), ".cache", "ms-playwright");
}

/** Chromium executables in Playwright's cache, newest revision first. */
function playwrightChromiums() {
  const cache = playwrightCache();
  if (!existsSync(cache)) return [];
  const revisions = readdirSync(cache)
    .filter((name) => /^chromium-\d+$/.test(name))
    .sort((a, b) => Number(b.slice(9)) - Number(a.slice(9)));
  return revisions.flatMap((revision) =>
    ["chrome-linux64", "chrome-linux", "chrome-linux-arm64"].map((dir) => join(cache, revision, dir, "chrome")),
  );
}

/** Candidate paths in the order they are tried. */
export function chromiumCandidates() {
  return [process.env.CHROMIUM_PATH, ...SYSTEM_PATHS, ...playwrightChromiums()].filter((path) => !!path);
}

/** The first Chromium found, or undefined. */
export function findChromium() {
  return chromiumCandidates().find((path) => existsSync(path));
}
