/** IPC messages between the bench driver (run.ts) and its child processes. */

export interface OpenRequest {
  type: "open";
  url: string;
  connections: number;
  swarms: number;
  zipfS: number;
  seed: number;
  /** Index of this generator's first connection, so peer ids and source addresses stay unique. */
  offset: number;
  tag: string;
  /** Connection attempts in flight at once. */
  concurrency: number;
}

export interface RunRequest {
  type: "run";
  mode: "rate" | "closed";
  /** Announces per second (mode "rate"). */
  rate: number;
  /** Connections each keeping one announce outstanding (mode "closed"). */
  window: number;
  offers: number;
  durationMs: number;
  seed: number;
}

export type LoadgenRequest = OpenRequest | RunRequest | { type: "exit" };

export interface PhaseResult {
  seconds: number;
  announces: number;
  replies: number;
  offersReceived: number;
  answersSent: number;
  answersReceived: number;
  failures: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** Every announce-reply latency of the phase, ms (so rounds can be merged). */
  samples: number[];
}

export type LoadgenReply =
  /** topSwarm: peers this generator put in the most popular swarm (rank 0), so counts add up. */
  | { type: "opened"; opened: number; failed: number; topSwarm: number; ms: number }
  | { type: "ran"; result: PhaseResult }
  | { type: "error"; message: string };

export type TrackerRequest = { type: "usage"; gc: boolean } | { type: "exit" };

export interface TrackerUsage {
  type: "usage";
  /** process.cpuUsage() of the tracker process, microseconds. */
  userUs: number;
  systemUs: number;
  rss: number;
  heapUsed: number;
  /** Our tracker only: frames sent and the socket writes that carried them. */
  framesOut?: number;
  writes?: number;
}

export type TrackerReply = { type: "ready"; port: number } | TrackerUsage | { type: "error"; message: string };

/** Soak generator: hold `connections` peers, replacing `replacePerSecond` of them every second. */
export interface SoakGenStart {
  type: "start";
  url: string;
  connections: number;
  swarms: number;
  zipfS: number;
  seed: number;
  /** First serial of this generator's peers, so peer ids and source addresses stay unique. */
  offset: number;
  tag: string;
  /** Connection attempts in flight at once. */
  concurrency: number;
  replacePerSecond: number;
  offers: number;
  reannounceSeconds: number;
  rampTimeoutMs: number;
}

export type SoakGenRequest = SoakGenStart | { type: "counters" } | { type: "stop" } | { type: "exit" };

export interface SoakCounters {
  opened: number;
  openFailures: number;
  /** Peers that said `stopped` and closed. */
  left: number;
  /** Peers whose socket the tracker closed. */
  droppedByTracker: number;
  announces: number;
  replies: number;
  offersIn: number;
  answersOut: number;
  answersIn: number;
  failures: number;
  failureReasons: Record<string, number>;
  live: number;
}

/** All counters at zero: a generator's start, and the sum over generators. */
export function emptySoakCounters(): SoakCounters {
  return {
    opened: 0,
    openFailures: 0,
    left: 0,
    droppedByTracker: 0,
    announces: 0,
    replies: 0,
    offersIn: 0,
    answersOut: 0,
    answersIn: 0,
    failures: 0,
    failureReasons: {},
    live: 0,
  };
}

export type SoakGenReply =
  | { type: "started"; live: number; ms: number }
  | { type: "counters"; counters: SoakCounters }
  | { type: "error"; message: string };
