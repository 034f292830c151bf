// Bundled by tests/sdk/hls-live-player.browser.test.ts: hls.js and the SDK's hls.js adapter, on window.
import Hls from "hls.js";
import { HlsLivePlayer } from "../../sdk/src/hlsjs/hls-live-player";

(window as unknown as { liveTest: unknown }).liveTest = { Hls, HlsLivePlayer };
