import { after, before } from "node:test";
import type { Browser } from "playwright-core";
import { startOrigin, type Origin, type OriginOptions } from "./origin/index";
import { startTracker, type RunningTracker, type TrackerInit } from "../tracker/src/index";
import { launchChromium } from "./chromium";
import { startPageServer, type PageServer } from "./page-server";

/** Everything a browser test of the SDK plays against, all real and on loopback. */
export interface Stage {
  origin: Origin;
  tracker: RunningTracker;
  /** Serves sdk/dist/ (the SDK build) at /dist/, tests/browser-pages/ at /pages/, devkit/pages/ at /devkit/. */
  pages: PageServer;
  browser: Browser;
}

export interface StageOptions {
  origin?: Partial<OriginOptions>;
  tracker?: TrackerInit;
  /** More page-server routes (URL prefix → directory), beside /dist/ and /pages/. */
  routes?: Record<string, string>;
}

export async function startStage(options: StageOptions = {}): Promise<Stage & { close(): Promise<void> }> {
  const [origin, tracker, pages, browser] = await Promise.all([
    startOrigin(options.origin),
    startTracker({ host: "127.0.0.1", port: 0, logLevel: "silent", ...options.tracker }),
    startPageServer({
      "/dist/": "sdk/dist",
      "/pages/": "tests/browser-pages",
      "/devkit/": "devkit/pages",
      ...options.routes,
    }),
    launchChromium(),
  ]);
  return {
    origin,
    tracker,
    pages,
    browser,
    async close() {
      await browser.close();
      await Promise.all([origin.close(), tracker.close(), pages.close()]);
    },
  };
}

/**
 * Starts a stage before the file's tests and stops it after them. The returned object is filled
 * in by the `before` hook, so read its fields inside tests, not at module level.
 */
export function useStage(options: StageOptions = {}): Stage {
  const stage = {} as Stage;
  let close: (() => Promise<void>) | undefined;
  before(async () => {
    const started = await startStage(options);
    close = () => started.close();
    Object.assign(stage, started);
  });
  after(() => close?.());
  return stage;
}
