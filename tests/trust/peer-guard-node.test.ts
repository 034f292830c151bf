// The peer connection guard on a Node WebRTC implementation (@roamhq/wrtc), as the engine build
// (`swarmcast/engine`) uses it: its event target cannot stop an event, so an oversize segment
// announcement must be kept from the channel's other handlers another way.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import { negotiate } from "../../devkit/webrtc-pair";
import { guardedPeerConnectionClass, PeerConnectionGuard } from "../../sdk/src/peers/peer-connection-guard";

const require = createRequire(import.meta.url);
const wrtc = require("@roamhq/wrtc") as { RTCPeerConnection: typeof RTCPeerConnection };

/** PML's "segment data follows" command announcing `size` bytes (4-byte big-endian field "s"). */
function announcement(size: number): ArrayBuffer {
  const field = [(size >>> 24) & 0x7f, (size >>> 16) & 0xff, (size >>> 8) & 0xff, size & 0xff];
  return new Uint8Array([0x63, 0x73, 0x74, 0x72, 2, 0x73, 0x04, ...field, 0x63, 0x65, 0x6e, 0x64]).buffer;
}

describe("peer connection guard on @roamhq/wrtc", () => {
  it("refuses connections over the cap and drops a peer announcing an oversize segment before the channel's handler sees it or anything after it", async () => {
    const Guarded = guardedPeerConnectionClass(wrtc.RTCPeerConnection);
    let oversize = 0;
    const guard = new PeerConnectionGuard({
      maxConnections: 1,
      maxSegmentBytes: () => 1000,
      onOversize: () => oversize++,
    });
    const viewer = new Guarded(guard.rtcConfig({ iceServers: [] }));
    assert.throws(() => new Guarded(guard.rtcConfig({ iceServers: [] })), /peer connection limit reached/);

    const peer = new wrtc.RTCPeerConnection({ iceServers: [] });
    const channel = viewer.createDataChannel("pml");
    channel.binaryType = "arraybuffer";
    const received: number[] = [];
    // As PML's WebRTC client does: a handler set after the guard watches the channel.
    channel.onmessage = (event) => received.push((event.data as ArrayBuffer).byteLength);
    const closed = new Promise<void>((resolve) => channel.addEventListener("close", () => resolve()));
    peer.ondatachannel = ({ channel: remote }) => {
      remote.onopen = () => {
        remote.send(new Uint8Array([1, 2, 3]).buffer);
        remote.send(announcement(100_000_000));
        // The segment's first chunks follow the announcement at once, before the close lands.
        for (let i = 0; i < 4; i++) remote.send(new Uint8Array(16_384).buffer);
      };
    };
    await negotiate(viewer, peer);
    try {
      await closed;
      assert.deepEqual(received, [3]);
      assert.equal(oversize, 1);
      assert.deepEqual(guard.stats(), { open: 0, peak: 1, refused: 1, oversizeRefused: 1, max: 1 });
    } finally {
      viewer.close();
      peer.close();
      guard.destroy();
    }
  });
});
