import { chromium, type Browser, type LaunchOptions } from "playwright-core";
import { findChromium } from "./find-chromium.mjs";

/**
 * Flags for Debian's headless Chromium on a machine with no network beyond loopback: no
 * background traffic, autoplay without a gesture, WebRTC host candidates on loopback without
 * mDNS obfuscation.
 */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--autoplay-policy=no-user-gesture-required",
  "--disable-features=WebRtcHideLocalIpsWithMdns",
  "--allow-loopback-in-peer-connection",
  "--use-fake-ui-for-media-stream",
  // Background tabs must keep playing and exchanging segments like foreground ones.
  "--disable-background-timer-throttling",
  "--disable-renderer-backgrounding",
  "--disable-backgrounding-occluded-windows",
];

export function chromiumPath(): string {
  const found = findChromium();
  if (!found) throw new Error("Chromium not found: run `node tests/setup.mjs`, or set CHROMIUM_PATH");
  return found;
}

export async function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    ...options,
    args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
  });
}
