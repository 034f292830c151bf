/**
 * Waiting on a condition instead of a clock: tests (and anything else driving live parts) poll
 * the state they need and move on the moment it holds, so they run as fast as the machine allows
 * and do not fail because a loaded machine was slower than a guessed sleep.
 */

export interface WaitOptions {
  /** What is awaited, for the failure message: "the leecher to receive bytes from a peer". */
  what: string;
  /** Give up after this many milliseconds. */
  timeout?: number;
  /** Check again this many milliseconds after each check. */
  interval?: number;
}

/** What a condition returns once it holds. */
export type Truthy<T> = Exclude<T, false | 0 | 0n | "" | null | undefined>;

export const DEFAULT_WAIT = { timeout: 30_000, interval: 100 } as const;

/**
 * Resolves with the first truthy value `condition` returns, checking every `interval` ms.
 * A condition that throws counts as not yet true; its last error is named if time runs out.
 * Rejects after `timeout` ms with an error naming `what` and the last value seen.
 */
export async function waitFor<T>(condition: () => T | Promise<T>, options: WaitOptions): Promise<Truthy<T>> {
  const { what, timeout = DEFAULT_WAIT.timeout, interval = DEFAULT_WAIT.interval } = options;
  const started = Date.now();
  let last: string = "no check finished";
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as Truthy<T>;
      last = `last value ${describe(value)}`;
    } catch (err) {
      last = `last error: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (Date.now() - started >= timeout) throw new Error(`timed out after ${timeout} ms waiting for ${what} (${last})`);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
