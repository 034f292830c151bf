/**
 * What PML's WebRTC client imports as `webrtc-polyfill`, in the Node build of the engine entry:
 * the runtime's own `RTCPeerConnection` globals, read when a connection is made, so any
 * implementation installed as globals (e.g. `@roamhq/wrtc`) is used. The polyfill's Node build
 * would load node-datachannel, a native module that is not installed.
 *
 * `RTCPeerConnection` is the guarded subclass of the global class (peers/peer-connection-guard.ts):
 * the browser builds swap it in while PML's module is evaluated, but this build resolves the
 * class at every connection, after the runtime's globals may have been installed.
 */
import { guardedPeerConnectionClass } from "../peers/peer-connection-guard";
import { constructorFromGlobals as fromGlobals } from "./node-runtime";

export const RTCPeerConnection = fromGlobals("RTCPeerConnection", (impl) =>
  guardedPeerConnectionClass(impl as unknown as typeof globalThis.RTCPeerConnection),
);
export const RTCSessionDescription = fromGlobals("RTCSessionDescription");
export const RTCIceCandidate = fromGlobals("RTCIceCandidate");
