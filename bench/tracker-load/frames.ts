/** Frames the load generators send: a realistic data-channel offer and answer, and peer ids. */

/** A data-channel offer of realistic size (trickle off, so candidates are inside). */
const SDP =
  "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n" +
  "a=extmap-allow-mixed\r\na=msid-semantic: WMS\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n" +
  "c=IN IP4 0.0.0.0\r\na=candidate:1467250027 1 udp 2122260223 192.168.1.23 46243 typ host generation 0 network-id 1\r\n" +
  "a=candidate:1853887674 1 udp 1686052607 203.0.113.7 46243 typ srflx raddr 192.168.1.23 rport 46243 generation 0\r\n" +
  "a=ice-ufrag:Zx9Q\r\na=ice-pwd:8Yq3v1bS0m5kR2cT7nW4pL6d\r\na=ice-options:trickle\r\n" +
  "a=fingerprint:sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08\r\n" +
  "a=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\na=max-message-size:262144\r\n";
export const OFFER_SDP_JSON = JSON.stringify(SDP);
export const ANSWER_JSON = JSON.stringify({ type: "answer", sdp: SDP.replace("actpass", "active") });

/** A 20-character id (the protocol's peer_id and offer_id length), unique per prefix and n. */
export function peerIdFor(prefix: string, n: number): string {
  const s = prefix + n.toString(36);
  return s.length >= 20 ? s.slice(-20) : s.padStart(20, "_");
}
