/**
 * A WebTorrent tracker client as the cluster bench drives it: one WebSocket, one peer id in one
 * swarm, announces carrying fixed offers, every offer relayed to it answered at once.
 */
import WebSocket from "ws";

export const SDP =
  "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n" +
  "a=candidate:1467250027 1 udp 2122260223 192.168.1.23 46243 typ host generation 0\r\na=ice-ufrag:Zx9Q\r\na=ice-pwd:8Yq3v1bS0m5kR2cT7nW4pL6d\r\n" +
  "a=fingerprint:sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08\r\na=setup:actpass\r\na=sctp-port:5000\r\n";

let idSeq = 0;
const processTag = process.pid.toString(36);
/** A 20-character id, unique across the bench's processes (peer ids are owned cluster-wide). */
export const id20 = (tag: string) => `${tag}${processTag}.${(++idSeq).toString(36)}`.padStart(20, "_").slice(-20);

export class Client {
  replies = 0;
  constructor(
    readonly ws: WebSocket,
    readonly infoHash: string,
    readonly peerId: string,
    onOffer?: (f: Record<string, string>, at: number) => void,
  ) {
    ws.on("message", (data: Buffer) => {
      const at = performance.now();
      const f = JSON.parse(data.toString()) as Record<string, string>;
      if (f.offer !== undefined) {
        onOffer?.(f, at);
        ws.send(
          JSON.stringify({
            action: "announce",
            info_hash: infoHash,
            peer_id: peerId,
            to_peer_id: f.peer_id,
            offer_id: f.offer_id,
            answer: { type: "answer", sdp: SDP },
          }),
        );
      } else if (f.interval !== undefined) this.replies++;
    });
  }

  static async open(
    url: string,
    infoHash: string,
    onOffer?: (f: Record<string, string>, at: number) => void,
  ): Promise<Client> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    const c = new Client(ws, infoHash, id20("p"), onOffer);
    c.announce(0, "started");
    return c;
  }

  announce(offers: number, event = "update"): string[] {
    const list = Array.from({ length: offers }, () => ({ offer_id: id20("o"), offer: { type: "offer", sdp: SDP } }));
    this.ws.send(
      JSON.stringify({
        action: "announce",
        event,
        info_hash: this.infoHash,
        peer_id: this.peerId,
        numwant: offers,
        uploaded: 0,
        downloaded: 0,
        left: 1,
        offers: list,
      }),
    );
    return list.map((o) => o.offer_id);
  }
}
