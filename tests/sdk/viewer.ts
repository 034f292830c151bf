// Drives one viewer of tests/browser-pages/player.html in its own browser context.
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { SwarmcastStats } from "../../sdk/src/index";

export interface ViewerState {
  attachError: string | null;
  currentTime: number;
  frames: number;
  paused: boolean;
  stats: SwarmcastStats | null;
  errors: Array<{ kind: string; message: string; fatal: boolean }>;
  peerConnects: number;
  segments: { http: number; p2p: number };
}

export interface Viewer {
  id: string;
  page: Page;
  read(): Promise<ViewerState>;
  close(): Promise<void>;
}

export interface ViewerParams {
  src: string;
  tracker?: string;
  swarm?: string;
  p2p?: "off";
  token?: string;
  health?: "off";
}

export async function openViewer(
  browser: Browser,
  pageBase: string,
  id: string,
  params: ViewerParams,
): Promise<Viewer> {
  const context: BrowserContext = await browser.newContext();
  const page = await context.newPage();
  page.on("pageerror", (err) => console.error(`[${id}] page error: ${err.message}`));
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined) as [string, string][]);
  await page.goto(`${pageBase}/pages/player.html?${query}`);
  return {
    id,
    page,
    read: () =>
      page.evaluate(() => {
        const record = (window as unknown as { swarmcastTest: Record<string, any> }).swarmcastTest;
        const video = document.querySelector("video") as HTMLVideoElement;
        return {
          attachError: record.attachError,
          currentTime: video.currentTime,
          frames: video.getVideoPlaybackQuality().totalVideoFrames,
          paused: video.paused,
          stats: record.player ? record.player.stats() : null,
          errors: record.errors,
          peerConnects: record.peerConnects,
          segments: record.segments,
        };
      }),
    close: () => context.close(),
  };
}
