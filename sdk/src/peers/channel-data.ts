/** What a data channel's `send` takes. */
export type ChannelData = string | Blob | ArrayBuffer | ArrayBufferView;

/** Bytes in a message sent or received on a data channel. */
export function sizeOf(data: unknown): number {
  if (typeof data === "string") return data.length;
  if (typeof Blob === "function" && data instanceof Blob) return data.size;
  return (data as { byteLength?: number } | null)?.byteLength ?? 0;
}
