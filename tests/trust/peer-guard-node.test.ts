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
      assert.deepEqual(guard.stats(), { open: 0, peak: 1, refused: 1, oversizeRefused: 1, replaced: 0, max: 1 });
    } finally {
      viewer.close();
      peer.close();
      guard.destroy();
    }
  });

  it("in a full set, closes the connection that moved the fewest bytes, counting both ways, and keeps the others", async () => {
    const Guarded = guardedPeerConnectionClass(wrtc.RTCPeerConnection);
    let clock = 0;
    const guard = new PeerConnectionGuard({
      maxConnections: 3,
      maxSegmentBytes: () => 1_000_000,
      choice: { intervalMs: 3_600_000, windowMs: 60_000, minAgeMs: 60_000, quietMs: 5000, freeSlots: 1 },
      now: () => clock,
    });
    const pairs: Array<{
      viewer: RTCPeerConnection;
      peer: RTCPeerConnection;
      channel: RTCDataChannel;
      remote: RTCDataChannel;
    }> = [];
    const open = async () => {
      const viewer = new Guarded(guard.rtcConfig({ iceServers: [] }));
      const peer = new wrtc.RTCPeerConnection({ iceServers: [] });
      const channel = viewer.createDataChannel("pml");
      channel.binaryType = "arraybuffer";
      const opened = new Promise<void>((resolve) => channel.addEventListener("open", () => resolve()));
      const remote = new Promise<RTCDataChannel>((resolve) => (peer.ondatachannel = (e) => resolve(e.channel)));
      await negotiate(viewer, peer);
      await opened;
      const pair = { viewer, peer, channel, remote: await remote };
      pairs.push(pair);
      return pair;
    };
    try {
      const receives = await open();
      const sends = await open();
      const idle = await open();
      clock = 40_000;
      // One peer sends this viewer 64 KB, this viewer sends another 32 KB; the third moves nothing.
      const arrived = new Promise<void>((resolve) => {
        let got = 0;
        receives.channel.addEventListener("message", (e: MessageEvent) => {
          got += (e.data as ArrayBuffer).byteLength;
          if (got >= 65_536) resolve();
        });
      });
      for (let i = 0; i < 4; i++) receives.remote.send(new Uint8Array(16_384).buffer);
      await arrived;
      sends.channel.send(new Uint8Array(32_768).buffer);

      clock = 50_000;
      assert.equal(guard.replaceLeastUseful(), false, "every connection is younger than minAgeMs");
      clock = 61_000;
      assert.equal(guard.replaceLeastUseful(), true);
      assert.equal(idle.viewer.connectionState, "closed");
      assert.equal(receives.channel.readyState, "open");
      assert.equal(sends.channel.readyState, "open");
      assert.equal(guard.replaceLeastUseful(), false, "a slot is free now");
      assert.deepEqual(guard.stats(), { open: 2, peak: 3, refused: 0, oversizeRefused: 0, replaced: 1, max: 3 });

      // The free slot takes the next peer; once the window has passed, what was moved long ago no longer counts.
      await open();
      clock = 200_000;
      assert.equal(guard.replaceLeastUseful(), true);
      assert.equal(guard.stats().replaced, 2);
    } finally {
      for (const { viewer, peer } of pairs) {
        // Candidates still gathering would be handed to a closed connection.
        viewer.onicecandidate = peer.onicecandidate = null;
        viewer.close();
        peer.close();
      }
      guard.destroy();
    }
  });
});
