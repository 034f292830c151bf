/**
 * Reading PML's peer commands off a data channel, for what the SDK does around the WebRTC
 * objects PML creates. PML's wire form: "cstr", a command byte, then fields, then "cend". A
 * field is a name byte and an item: an integer (a type/length byte, then big-endian bytes with
 * the sign in the top bit), or an array of integers grouped by all but their low byte (a type
 * byte, the number of groups, then per group an integer holding the common part and, in its
 * low byte, how many low bytes follow).
 */

/** PML 2.3.1's command codes (its `PeerCommandType`). */
export const PEER_COMMAND = {
  segmentsAnnouncement: 0,
  segmentRequest: 1,
  segmentData: 2,
  cancelSegmentRequest: 5,
} as const;

export interface PeerCommand {
  type: number;
  /** Integer fields by their one-letter name: `i` segment id, `r` request id, `s` size, `b` byte offset. */
  fields: Record<string, number>;
  /** Array fields by name: an announcement's `l` (segments held) and `p` (being fetched over HTTP). */
  arrays: Record<string, number[]>;
}

const FRAME_START = [0x63, 0x73, 0x74, 0x72]; // "cstr"
const FRAME_END = [0x63, 0x65, 0x6e, 0x64]; // "cend"
const INT_ITEM = 0;
const INT_ARRAY_ITEM = 1;
/** Longer messages are segment data (or an announcement too long to matter here). */
const MAX_COMMAND_BYTES = 4096;

/** The integer at `offset` and the offset after it, or undefined if malformed. */
function readInt(bytes: Uint8Array, offset: number, end: number): [number, number] | undefined {
  const meta = bytes[offset];
  if (meta === undefined || meta >> 4 !== INT_ITEM) return undefined;
  const length = meta & 0x0f;
  if (length === 0 || offset + 1 + length > end) return undefined;
  let value = bytes[offset + 1] & 0x7f;
  for (let i = 1; i < length; i++) value = value * 256 + bytes[offset + 1 + i];
  return [bytes[offset + 1] & 0x80 ? -value : value, offset + 1 + length];
}

/** The integer array at `offset` and the offset after it, or undefined if malformed. */
function readIntArray(bytes: Uint8Array, offset: number, end: number): [number[], number] | undefined {
  if (offset + 2 > end || bytes[offset] >> 4 !== INT_ARRAY_ITEM) return undefined;
  const groups = bytes[offset + 1];
  const numbers: number[] = [];
  let at = offset + 2;
  for (let g = 0; g < groups; g++) {
    const head = readInt(bytes, at, end);
    if (!head) return undefined;
    const [commonWithCount, next] = head;
    const count = commonWithCount & 0xff;
    const common = commonWithCount - count;
    if (next + count > end) return undefined;
    for (let i = 0; i < count; i++) numbers.push(common + bytes[next + i]);
    at = next + count;
  }
  return [numbers, at];
}

/** The command in `bytes` if it is a whole command (not segment data), else undefined. */
export function parsePeerCommand(bytes: Uint8Array): PeerCommand | undefined {
  const n = bytes.length;
  if (n < 9 || n > MAX_COMMAND_BYTES) return undefined;
  for (let i = 0; i < 4; i++) {
    if (bytes[i] !== FRAME_START[i] || bytes[n - 4 + i] !== FRAME_END[i]) return undefined;
  }
  const end = n - 4;
  const command: PeerCommand = { type: bytes[4], fields: {}, arrays: {} };
  let offset = 5;
  while (offset < end) {
    const name = String.fromCharCode(bytes[offset]);
    if (bytes[offset + 1] >> 4 === INT_ARRAY_ITEM) {
      const read = readIntArray(bytes, offset + 1, end);
      if (!read) return undefined;
      [command.arrays[name], offset] = read;
    } else {
      const read = readInt(bytes, offset + 1, end);
      if (!read) return undefined;
      [command.fields[name], offset] = read;
    }
  }
  return command;
}

/** The size a PML "segment data" command announces, or undefined for any other message. */
export function announcedSegmentSize(bytes: Uint8Array): number | undefined {
  const command = parsePeerCommand(bytes);
  return command?.type === PEER_COMMAND.segmentData ? command.fields.s : undefined;
}
