/** Largest number of bytes in any `windowMs` window of a log of [ms, bytes, …] events, in time order. */
export function worstWindow(
  log: Array<[number, number, ...unknown[]]>,
  windowMs: number,
): { bytes: number; events: unknown[] } {
  let worst = 0;
  let at: [number, number] = [0, 0];
  let sum = 0;
  let tail = 0;
  for (const [i, [t, bytes]] of log.entries()) {
    sum += bytes;
    while (log[tail][0] <= t - windowMs) sum -= log[tail++][1];
    if (sum > worst) {
      worst = sum;
      at = [tail, i];
    }
  }
  return { bytes: worst, events: log.slice(at[0], at[1] + 1) };
}
