/**
 * What stock PML's WebRTC client imports as `webrtc-polyfill` in the bench's stock PML build:
 * the runtime's `RTCPeerConnection` globals (`@roamhq/wrtc`, installed by the viewer), as they
 * are, without the SDK's connection guard: stock PML has no connection cap.
 */
import { constructorFromGlobals } from "../../sdk/src/engine/node-runtime";

export const RTCPeerConnection = constructorFromGlobals("RTCPeerConnection");
export const RTCSessionDescription = constructorFromGlobals("RTCSessionDescription");
export const RTCIceCandidate = constructorFromGlobals("RTCIceCandidate");
