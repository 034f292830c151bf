/** Numbers as a person reads them. Pure. */

const UNITS = ["B", "kB", "MB", "GB", "TB"];

/** 1234567 → "1.2 MB" (decimal units, like network tools). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes <= 0) return "0 B";
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** Bytes per second → "42.0 kB/s". */
export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** Bytes per second → kB/s number for charts, one decimal. */
export function kilobytesPerSecond(bytesPerSecond: number): number {
  return Math.round((Number.isFinite(bytesPerSecond) ? bytesPerSecond : 0) / 100) / 10;
}

/** 0.4567 → "46 %". */
export function formatPercent(ratio: number): string {
  if (!Number.isFinite(ratio)) return "0 %";
  return `${Math.round(Math.min(1, Math.max(0, ratio)) * 100)} %`;
}

/** A peer id as a short, printable label: PML ids are 20 characters of which 8 tell peers apart. */
export function shortPeerId(id: string): string {
  const printable = [...id].filter((c) => c >= " " && c <= "~").join("");
  const tail = printable.slice(-8);
  return tail === "" ? "(unnamed)" : tail;
}

/** Seconds since `since` as "5 s", "3 min", "2 h". */
export function formatAge(since: number, now: number): string {
  const s = Math.max(0, Math.round((now - since) / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h`;
}
