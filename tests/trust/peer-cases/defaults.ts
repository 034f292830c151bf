// What a site gets without configuring anything, on a stream that publishes no hashes, in real
// Chromium with real WebRTC, our tracker and the local live origin:
// - integrity "if-present" says, once per stream, on the console, as an event and in stats,
//   that bytes from peers are not verified;
// - upload "auto" does not upload on a data-saving or cellular connection, nor on a discharging
//   battery under 20 %, and follows the APIs' change events (faked in the page before the SDK
//   loads, as the browser would report them).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BrowserContext, Page } from "playwright-core";
import { plainStage as stage } from "./stage";

interface FakeDevice {
  saveData?: boolean;
  type?: string;
  charging?: boolean;
  level?: number;
}

/**
 * Replaces navigator.connection and navigator.getBattery before any page script runs. A string,
 * not a function: the test's TypeScript transform would leave helpers the page does not have.
 */
const fakeDevice = (device: FakeDevice) => `(() => {
  const device = ${JSON.stringify(device)};
  const connection = Object.assign(new EventTarget(), { saveData: device.saveData ?? false, type: device.type ?? "wifi" });
  const battery = Object.assign(new EventTarget(), { charging: device.charging ?? true, level: device.level ?? 1 });
  Object.defineProperty(navigator, "connection", { value: connection, configurable: true });
  Object.defineProperty(navigator, "getBattery", { value: () => Promise.resolve(battery), configurable: true });
  window.fakeDevice = { connection, battery };
})();`;

interface Viewer {
  page: Page;
  context: BrowserContext;
  consoleLines: string[];
}

async function open(params: Record<string, string>, device?: FakeDevice): Promise<Viewer> {
  const context = await stage.browser.newContext();
  const page = await context.newPage();
  const consoleLines: string[] = [];
  page.on("console", (m) => consoleLines.push(m.text()));
  if (device) await page.addInitScript({ content: fakeDevice(device) });
  await page.goto(`${stage.pages.url}/pages/trust-player.html?${new URLSearchParams(params)}`);
  return { page, context, consoleLines };
}

const uploadState = (page: Page) =>
  page.evaluate(() => {
    const player = (window as any).trustTest.player;
    const stats = player.stats();
    return {
      upload: stats.upload,
      uploadedBytes: stats.uploadedBytes,
      peers: stats.peers.length,
      pmlUploadDisabled: player.p2pEngine.getConfig().core.mainStream.isP2PUploadDisabled as boolean,
    };
  });

type UploadState = Awaited<ReturnType<typeof uploadState>>;

/**
 * Whether PML's upload is off for exactly the governor's own reasons besides the device: the
 * viewer's playback struggling (on a loaded machine) or the cap. A viewer whose upload is
 * allowed may still pause it for those, and says so in its stats.
 */
function pmlUploadFollowsGovernor(state: UploadState): boolean {
  return state.pmlUploadDisabled === (state.upload.pausedForPlayback || state.upload.limited);
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline) assert.fail(`${what}: still ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export function defaultsCase(): void {
  describe("defaults of a site that configured nothing", () => {
    it(
      'says that bytes from peers are not verified, once, on the console, as an event and in stats; and upload "auto" follows the device',
      { timeout: 120_000 },
      async () => {
        const swarm = `defaults-${Date.now()}`;
        const common = { tracker: stage.tracker.url, swarm };
        const viewers: Viewer[] = [];
        try {
          const plain = await open({ ...common, src: stage.origin.liveUrl("plain") });
          viewers.push(plain);
          const saver = await open({ ...common, src: stage.origin.liveUrl("saver") }, { saveData: true });
          const cellular = await open({ ...common, src: stage.origin.liveUrl("cellular") }, { type: "cellular" });
          const forced = await open(
            { ...common, src: stage.origin.liveUrl("forced"), upload: "on" },
            { type: "cellular" },
          );
          const lowBattery = await open(
            { ...common, src: stage.origin.liveUrl("battery") },
            { charging: false, level: 0.12 },
          );
          viewers.push(saver, cellular, forced, lowBattery);

          // Integrity: one warning per stream, everywhere a site owner might look.
          const warned = await waitFor(
            "unverified warning",
            () =>
              plain.page.evaluate(() =>
                (window as any).trustTest.errors.filter((e: { kind: string }) => e.kind === "integrity"),
              ),
            (errors: Array<{ message: string }>) => errors.length > 0,
          );
          // Playlist reloads must not repeat it: two of them.
          // A string: the test's TypeScript transform would name the handler with a helper the page does not have.
          await plain.page.evaluate(`new Promise((resolve) => {
            const hls = window.trustTest.player.hls;
            const loaded = window.Swarmcast.Hls.Events.LEVEL_LOADED;
            let reloads = 0;
            const onLoaded = () => {
              if (++reloads < 2) return;
              hls.off(loaded, onLoaded);
              resolve();
            };
            hls.on(loaded, onLoaded);
          })`);
          const errors = await plain.page.evaluate(() =>
            (window as any).trustTest.errors.filter((e: { kind: string }) => e.kind === "integrity"),
          );
          const integrity = await plain.page.evaluate(() => (window as any).trustTest.player.stats().integrity);
          console.log(`# warning: ${warned[0].message}`);
          assert.equal(errors.length, 1, `integrity events: ${JSON.stringify(errors)}`);
          assert.match(errors[0].message, /bytes from peers are NOT verified/);
          assert.equal(
            plain.consoleLines.filter((l) => /bytes from peers are NOT verified/.test(l)).length,
            1,
            plain.consoleLines.join("\n"),
          );
          assert.equal(integrity.mode, "if-present");
          assert.deepEqual(integrity.unverifiedStreams, ["main"]);

          // Upload "auto".
          const states = await Promise.all(
            [plain, saver, cellular, forced, lowBattery].map((v) => uploadState(v.page)),
          );
          const [plainState, saverState, cellularState, forcedState, batteryState] = states;
          console.log(
            `# upload: ${["plain", "saveData", "cellular", "cellular + upload:true", "battery 12 %"].map((n, i) => `${n} ${states[i].upload.enabled ? "uploads" : `withheld (${states[i].upload.withheldBy})`}, ${states[i].uploadedBytes} B sent to ${states[i].peers} peer(s)`).join("; ")}`,
          );
          assert.equal(plainState.upload.enabled, true);
          assert.ok(pmlUploadFollowsGovernor(plainState), `plain: ${JSON.stringify(plainState)}`);
          for (const [state, reason] of [
            [saverState, "save-data"],
            [cellularState, "cellular"],
            [batteryState, "low-battery"],
          ] as const) {
            assert.equal(state.upload.mode, "auto");
            assert.equal(state.upload.enabled, false, `${reason}: uploads on`);
            assert.equal(state.upload.withheldBy, reason);
            assert.equal(state.pmlUploadDisabled, true, `${reason}: PML still uploads`);
            assert.equal(state.uploadedBytes, 0, `${reason}: sent bytes to peers`);
          }
          assert.equal(forcedState.upload.enabled, true, "upload: true did not override a cellular link");
          assert.ok(pmlUploadFollowsGovernor(forcedState), `upload: true: ${JSON.stringify(forcedState)}`);

          // Plugged in: the battery's change event turns uploads back on; saveData off likewise.
          await lowBattery.page.evaluate(() => {
            const { battery } = (window as any).fakeDevice;
            battery.charging = true;
            battery.dispatchEvent(new Event("chargingchange"));
          });
          await saver.page.evaluate(() => {
            const { connection } = (window as any).fakeDevice;
            connection.saveData = false;
            connection.dispatchEvent(new Event("change"));
          });
          for (const v of [lowBattery, saver]) {
            const after = await uploadState(v.page);
            assert.equal(after.upload.enabled, true);
            assert.ok(pmlUploadFollowsGovernor(after), JSON.stringify(after));
          }
          // And back off when the battery runs low again.
          await lowBattery.page.evaluate(() => {
            const { battery } = (window as any).fakeDevice;
            battery.charging = false;
            battery.level = 0.05;
            battery.dispatchEvent(new Event("chargingchange"));
          });
          assert.equal((await uploadState(lowBattery.page)).pmlUploadDisabled, true);
        } finally {
          await Promise.all(viewers.map((v) => v.context.close()));
        }
      },
    );
  });
}
