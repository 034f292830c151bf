/** Lower-case hex SHA-256, the form of the playlist tag and of integrity maps. */
const HEX_SHA256 = /^[0-9a-f]{64}$/;

export function isSha256Hex(value: unknown): value is string {
  return typeof value === "string" && HEX_SHA256.test(value);
}

/** Normalises a hash written by a publisher (upper-case hex is accepted); undefined if it is not one. */
export function normaliseSha256Hex(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const lower = value.trim().toLowerCase();
  return HEX_SHA256.test(lower) ? lower : undefined;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function toHex(buffer: ArrayBuffer): string {
  const bytes = new Uint8Array(buffer);
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]];
  return out;
}

/** SHA-256 of `data` through WebCrypto (browsers, and Node ≥ 20 through globalThis.crypto). */
export async function sha256Hex(data: ArrayBuffer | ArrayBufferView): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) {
    throw new Error(
      "WebCrypto (crypto.subtle) is unavailable: segment integrity needs a secure context (https or localhost)",
    );
  }
  return toHex(await subtle.digest("SHA-256", data as BufferSource));
}
