/**
 * RFC 6455 framing of the tracker, byte by byte over raw TCP: handshake checks, fragmented and
 * split frames, extended lengths, control frames, masking, close handshake.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { announce, binId, startOurs } from "./helpers";

type Tracker = Awaited<ReturnType<typeof startOurs>>;

function clientFrame(opcode: number, payload: Buffer | string, fin = true, mask = true): Buffer {
  const data = typeof payload === "string" ? Buffer.from(payload) : payload;
  const len = data.length;
  const hdr = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const out = Buffer.alloc(hdr + (mask ? 4 : 0) + len);
  out[0] = (fin ? 0x80 : 0) | opcode;
  if (hdr === 2) out[1] = len;
  else if (hdr === 4) {
    out[1] = 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(0, 2);
    out.writeUInt32BE(len, 6);
  }
  if (mask) {
    out[1] |= 0x80;
    const key = randomBytes(4);
    key.copy(out, hdr);
    for (let i = 0; i < len; i++) out[hdr + 4 + i] = data[i] ^ key[i & 3];
  } else data.copy(out, hdr);
  return out;
}

interface Frame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

class RawClient {
  private buf: Buffer = Buffer.alloc(0);
  readonly frames: Frame[] = [];
  ended = false;
  private wake: (() => void) | null = null;
  status = "";

  private constructor(readonly sock: net.Socket) {
    sock.on("data", (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.parse();
      this.wake?.();
    });
    sock.on("close", () => {
      this.ended = true;
      this.wake?.();
    });
    sock.on("error", () => {});
  }

  static async open(port: number, headers: Record<string, string> = {}): Promise<RawClient> {
    const sock = net.connect(port, "127.0.0.1");
    await new Promise((r) => sock.once("connect", r));
    const c = new RawClient(sock);
    const key = randomBytes(16).toString("base64");
    const h = {
      Host: "127.0.0.1",
      Upgrade: "websocket",
      Connection: "Upgrade",
      "Sec-WebSocket-Key": key,
      "Sec-WebSocket-Version": "13",
      ...headers,
    };
    sock.write(
      `GET / HTTP/1.1\r\n${Object.entries(h)
        .filter(([, v]) => v !== "")
        .map(([k, v]) => `${k}: ${v}`)
        .join("\r\n")}\r\n\r\n`,
    );
    await c.until(() => c.status !== "" || c.ended);
    if (c.status.startsWith("HTTP/1.1 101")) {
      const accept = createHash("sha1")
        .update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
        .digest("base64");
      assert.match(c.status, new RegExp(`Sec-WebSocket-Accept: ${accept.replace(/[+/]/g, "\\$&")}`));
    }
    return c;
  }

  private parse(): void {
    if (this.status === "") {
      const i = this.buf.indexOf("\r\n\r\n");
      if (i < 0) return;
      this.status = this.buf.subarray(0, i).toString();
      this.buf = this.buf.subarray(i + 4);
      if (!this.status.startsWith("HTTP/1.1 101")) {
        this.status += "\n" + this.buf.toString();
        return;
      }
    }
    for (;;) {
      if (this.buf.length < 2) return;
      let len = this.buf[1] & 0x7f;
      let hdr = 2;
      assert.equal(this.buf[1] & 0x80, 0, "server frames are never masked");
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        hdr = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = this.buf.readUInt32BE(6);
        hdr = 10;
      }
      if (this.buf.length < hdr + len) return;
      this.frames.push({
        fin: (this.buf[0] & 0x80) !== 0,
        opcode: this.buf[0] & 0x0f,
        payload: this.buf.subarray(hdr, hdr + len),
      });
      this.buf = this.buf.subarray(hdr + len);
    }
  }

  async until(cond: () => boolean, ms = 3000): Promise<void> {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error("timed out");
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 50);
      });
    }
  }

  async nextFrame(): Promise<Frame> {
    await this.until(() => this.frames.length > 0);
    return this.frames.shift()!;
  }

  write(b: Buffer): void {
    this.sock.write(b);
  }
}

describe("WebSocket framing", () => {
  let t: Tracker;
  const clients: RawClient[] = [];
  const open = async (headers?: Record<string, string>) => {
    const c = await RawClient.open(t.port, headers);
    clients.push(c);
    return c;
  };
  before(async () => {
    t = await startOurs({ limits: { maxPayload: 100_000 } });
  });
  after(async () => {
    for (const c of clients) c.sock.destroy();
    await t.close();
  });

  it("refuses handshakes without a valid key or with another version", async () => {
    assert.match((await open({ "Sec-WebSocket-Key": "" })).status, /^HTTP\/1.1 400/);
    assert.match((await open({ "Sec-WebSocket-Key": "short" })).status, /^HTTP\/1.1 400/);
    const v = await open({ "Sec-WebSocket-Version": "8" });
    assert.match(v.status, /^HTTP\/1.1 426/);
    assert.match(v.status, /Sec-WebSocket-Version: 13/);
  });

  it("handles frames split byte by byte, fragmented messages and 16/64-bit lengths", async () => {
    const c = await open();
    const ih = binId("frag-ih");
    const msg = JSON.stringify(announce(ih, binId("frag-p"), { event: "started" }));
    for (const byte of clientFrame(1, msg)) c.write(Buffer.from([byte]));
    assert.equal(JSON.parse((await c.nextFrame()).payload.toString()).info_hash, ih);

    const third = Math.floor(msg.length / 3);
    c.write(
      Buffer.concat([
        clientFrame(1, msg.slice(0, third), false),
        clientFrame(9, "mid-ping"),
        clientFrame(0, msg.slice(third, 2 * third), false),
        clientFrame(0, msg.slice(2 * third), true),
      ]),
    );
    const pong = await c.nextFrame();
    assert.equal(pong.opcode, 10);
    assert.equal(pong.payload.toString(), "mid-ping");
    assert.equal(JSON.parse((await c.nextFrame()).payload.toString()).info_hash, ih);

    const big = JSON.stringify(announce(ih, binId("frag-p"), { pad: "x".repeat(70_000) }));
    c.write(clientFrame(1, big));
    const reply = await c.nextFrame();
    assert.equal(reply.opcode, 1);
    assert.equal(JSON.parse(reply.payload.toString()).incomplete, 1);
    const mid = JSON.stringify(announce(ih, binId("frag-p"), { pad: "y".repeat(1000) }));
    c.write(clientFrame(2, mid));
    assert.equal(JSON.parse((await c.nextFrame()).payload.toString()).incomplete, 1);
  });

  it("unmasks payloads at every byte alignment within a read", async () => {
    const c = await open();
    const ih = binId("align-ih");
    for (let k = 0; k < 8; k++) {
      const pad = "é".repeat(k * 7);
      const msg = JSON.stringify(announce(ih, binId(`align-p${k}`), { event: "started", pad }));
      c.write(Buffer.concat([clientFrame(9, "x".repeat(k)), clientFrame(1, msg)]));
      const pong = await c.nextFrame();
      assert.equal(pong.opcode, 10);
      const reply = JSON.parse((await c.nextFrame()).payload.toString());
      assert.equal(reply.info_hash, ih, `alignment ${k}`);
      assert.equal(reply.incomplete, k + 1);
    }
  });

  it("closes with 1002 on unmasked frames and 1007 on invalid UTF-8", async () => {
    const a = await open();
    a.write(clientFrame(1, "{}", true, false));
    const fa = await a.nextFrame();
    assert.equal(fa.opcode, 8);
    assert.equal(fa.payload.readUInt16BE(0), 1002);
    await a.until(() => a.ended);

    const b = await open();
    b.write(clientFrame(1, Buffer.from([0x7b, 0xff, 0xfe, 0x7d])));
    const fb = await b.nextFrame();
    assert.equal(fb.payload.readUInt16BE(0), 1007);
  });

  it("closes with 1009 when a message is larger than maxPayload, even in fragments", async () => {
    const c = await open();
    c.write(clientFrame(1, "[" + "1,".repeat(30_000), false));
    c.write(clientFrame(0, "1,".repeat(30_000), false));
    const f = await c.nextFrame();
    assert.equal(f.opcode, 8);
    assert.equal(f.payload.readUInt16BE(0), 1009);
  });

  it("answers a close frame with the same code and ends the connection", async () => {
    const c = await open();
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(4321);
    c.write(clientFrame(8, payload));
    const f = await c.nextFrame();
    assert.equal(f.opcode, 8);
    assert.equal(f.payload.readUInt16BE(0), 4321);
    await c.until(() => c.ended);
  });

  it("keeps serving other clients after all of the above", async () => {
    const c = await open();
    c.write(clientFrame(1, JSON.stringify({ action: "scrape", info_hash: binId("frag-ih") })));
    const f = JSON.parse((await c.nextFrame()).payload.toString());
    assert.equal(f.action, "scrape");
  });
});
