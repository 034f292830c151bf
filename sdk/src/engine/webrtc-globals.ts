/**
 * What PML's WebRTC client imports as `webrtc-polyfill`, in the Node build of the engine entry:
 * the runtime's own `RTCPeerConnection` globals, read when a connection is made, so any
 * implementation installed as globals (e.g. `@roamhq/wrtc`) is used. The polyfill's Node build
 * would load node-datachannel, a native module that is not installed.
 */
type Constructor = new (...args: never[]) => object;

function fromGlobals(name: string): Constructor {
  return function (this: unknown, ...args: never[]) {
    const Impl = (globalThis as Record<string, unknown>)[name] as Constructor | undefined;
    if (!Impl) throw new Error(`${name} is not available: install a WebRTC implementation as globals first`);
    return new Impl(...args);
  } as unknown as Constructor;
}

export const RTCPeerConnection = fromGlobals("RTCPeerConnection");
export const RTCSessionDescription = fromGlobals("RTCSessionDescription");
export const RTCIceCandidate = fromGlobals("RTCIceCandidate");
