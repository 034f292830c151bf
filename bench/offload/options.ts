/**
 * Every option of the offload bench, its default and its validation. The CLI, `--help` and
 * the programmatic API all read the same table, so a default lives in exactly one place.
 */

import { CDN_FAULTS, SCENARIO_NAMES, type CdnFault, type ScenarioName } from "../audience/scenarios.js";

export const MODES = ["http-only", "pml-defaults", "swarmcast"] as const;
export type Mode = (typeof MODES)[number];

export const TRACKER_KINDS = ["swarmcast", "bittorrent-tracker"] as const;
export type TrackerKind = (typeof TRACKER_KINDS)[number];

export interface BenchOptions {
  /** Viewers playing at once in each mode, Chromium and virtual ones together. */
  viewers: number;
  /** Emulated links: a profile of bench/links/profiles.json, or "off" (loopback, every viewer a Chromium). */
  links: string;
  /** With links: how many of the viewers are Chromium (the rest are virtual); off: all of them. */
  browsers: number | null;
  /** With links: 3 plays the ABR ladder, 1 its 1.6 Mbit/s rendition alone; off: the bundled stream. */
  ladder: number | null;
  /** With links: "off" leaves out the profile's round-trip times (no delay line); rates and NAT stay. */
  rtt: "on" | "off";
  /** Modes to run, one after another, on identical settings. */
  modes: Mode[];
  /** Seconds between two viewer joins at the start of a mode. */
  joinInterval: number;
  /** Seconds, after the last join, excluded from the steady-state figures. */
  warmup: number;
  /** Steady-state seconds measured per mode (after joins and warm-up). */
  duration: number;
  /** Every this many seconds the longest-present viewer leaves and a new one joins; 0 = off. */
  churn: number;
  /** hls.js liveSyncDurationCount for the swarmcast mode (segments behind the live edge); 0 = SDK default. */
  liveSyncCount: number;
  /** hls.js liveSyncDuration for the swarmcast mode (seconds behind the live edge); 0 = SDK default. */
  liveSync: number;
  /** Share (0..1) of viewers whose origin segment requests answer 503 during the fault window. */
  faultShare: number;
  /** [start, end] seconds after steady-state start in which the fault is active. */
  faultWindow: [number, number];
  /** Upload cap per viewer in kbit/s for the swarmcast mode (SDK option maxUploadKbps); 0 = none. */
  uploadCap: number;
  /** Extra SDK options for the swarmcast mode, merged over the bench's (hls and core merge key by key). */
  sdkConfig: Record<string, unknown>;
  /** Tracker the viewers announce to. */
  tracker: TrackerKind;
  /** Seconds between two samples of every viewer and of the origin. */
  sampleInterval: number;
  /** Segments in the origin's live playlist window. */
  window: number;
  /** With links: a fault scenario of bench/audience/scenarios.ts; "" = a calm run. */
  scenario: ScenarioName | "";
  /** cdn-partial: how the failing segment requests fail. */
  cdnFault: CdnFault;
  /** tracker-kill: seconds until the killed tracker is back on the same address, or "never". */
  trackerRestart: number | "never";
  /** lying-peer: "on" = hash-tagged stream, integrity "required"; "off" = no hashes (the spot check guards). */
  hashes: "on" | "off";
  /** Seconds into the steady window at which a scenario's fault starts. */
  faultAt: number;
  /** viewer-soak: minutes the viewers play undisturbed. */
  soakMinutes: number;
  /** Base name of the result files. Default: "<viewers>-viewers". */
  name: string;
  /** Folder the result files are written to. */
  out: string;
}

export const DEFAULT_BENCH_OPTIONS: BenchOptions = {
  viewers: 4,
  links: "off",
  browsers: null,
  ladder: null,
  rtt: "on",
  modes: [...MODES],
  joinInterval: 5,
  warmup: 20,
  duration: 120,
  churn: 0,
  liveSyncCount: 0,
  liveSync: 0,
  faultShare: 0,
  faultWindow: [0, 0],
  uploadCap: 0,
  sdkConfig: {},
  tracker: "swarmcast",
  sampleInterval: 2,
  window: 10,
  scenario: "",
  cdnFault: "503",
  trackerRestart: 10,
  hashes: "on",
  faultAt: 20,
  soakMinutes: 120,
  name: "",
  out: "bench/results",
};

export class BenchOptionError extends Error {
  override name = "BenchOptionError";
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(message);
  }
}

interface OptionSpec {
  key: keyof BenchOptions;
  flag: string;
  arg: string;
  help: string;
  parse(raw: string, flag: string): unknown;
}

function number(min: number, max: number, integer: boolean) {
  return (raw: string, flag: string): number => {
    const value = Number(raw);
    if (
      raw.trim() === "" ||
      !Number.isFinite(value) ||
      (integer && !Number.isInteger(value)) ||
      value < min ||
      value > max
    ) {
      const kind = integer ? "an integer" : "a number";
      throw new BenchOptionError(flag, `${flag} must be ${kind} from ${min} to ${max}, got "${raw}"`);
    }
    return value;
  };
}

function oneOf<T extends string>(choices: readonly T[]) {
  return (raw: string, flag: string): T => {
    if (!(choices as readonly string[]).includes(raw)) {
      throw new BenchOptionError(flag, `${flag} must be one of ${choices.join(", ")}, got "${raw}"`);
    }
    return raw as T;
  };
}

function modeList(raw: string, flag: string): Mode[] {
  const list = raw
    .split(",")
    .map((m) => m.trim())
    .filter((m) => m !== "");
  if (list.length === 0) throw new BenchOptionError(flag, `${flag} needs at least one of ${MODES.join(", ")}`);
  for (const mode of list) oneOf(MODES)(mode, flag);
  if (new Set(list).size !== list.length) throw new BenchOptionError(flag, `${flag} lists a mode twice: "${raw}"`);
  return list as Mode[];
}

function window(raw: string, flag: string): [number, number] {
  const parts = raw.split(",").map((p) => p.trim());
  const values = parts.map(Number);
  if (
    parts.length !== 2 ||
    parts.some((p) => p === "") ||
    values.some((v) => !Number.isFinite(v) || v < 0) ||
    values[0] >= values[1]
  ) {
    throw new BenchOptionError(
      flag,
      `${flag} must be "start,end" seconds after steady-state start with 0 <= start < end, got "${raw}"`,
    );
  }
  return [values[0], values[1]];
}

function jsonObject(raw: string, flag: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new BenchOptionError(flag, `${flag} must be a JSON object of SDK options: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new BenchOptionError(flag, `${flag} must be a JSON object of SDK options, got ${raw}`);
  }
  return value as Record<string, unknown>;
}

function safeName(raw: string, flag: string): string {
  if (!/^[A-Za-z0-9._-]{1,80}$/.test(raw) || raw.startsWith(".")) {
    throw new BenchOptionError(
      flag,
      `${flag} must be 1-80 characters of A-Z a-z 0-9 . _ - (a file name), got "${raw}"`,
    );
  }
  return raw;
}

function linkProfile(raw: string, flag: string): string {
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(raw))
    throw new BenchOptionError(flag, `${flag} must be a link profile name or "off", got "${raw}"`);
  return raw;
}

function path(raw: string, flag: string): string {
  if (raw.trim() === "") throw new BenchOptionError(flag, `${flag} must be a folder path`);
  return raw;
}

export const OPTION_SPECS: OptionSpec[] = [
  {
    key: "viewers",
    flag: "--viewers",
    arg: "<n>",
    help: "viewers playing at once in each mode (at most 64 without --links)",
    parse: number(1, 500, true),
  },
  {
    key: "links",
    flag: "--links",
    arg: "<profile|off>",
    help: "emulated home links (a profile of bench/links/profiles.json: default, ladder) or off (loopback)",
    parse: linkProfile,
  },
  {
    key: "browsers",
    flag: "--browsers",
    arg: "<n>",
    help: "with --links: viewers that are Chromium, each in its own namespace (the rest are virtual)",
    parse: number(0, 64, true),
  },
  {
    key: "ladder",
    flag: "--ladder",
    arg: "<1|3>",
    help: "with --links: 3 = the 3-rendition ABR ladder, 1 = its 1.6 Mbit/s rendition alone",
    parse: (raw, flag) => Number(oneOf(["1", "3"] as const)(raw, flag)),
  },
  {
    key: "rtt",
    flag: "--rtt",
    arg: "<on|off>",
    help: "with --links: off leaves out the profile's round-trip times (the delay line), keeping rates and NAT",
    parse: oneOf(["on", "off"] as const),
  },
  {
    key: "modes",
    flag: "--modes",
    arg: "<list>",
    help: `comma-separated modes, run in this order (${MODES.join(", ")})`,
    parse: modeList,
  },
  {
    key: "joinInterval",
    flag: "--join-interval",
    arg: "<s>",
    help: "seconds between two viewer joins",
    parse: number(0, 600, false),
  },
  {
    key: "warmup",
    flag: "--warmup",
    arg: "<s>",
    help: "seconds after the last join left out of the steady-state figures",
    parse: number(0, 3600, false),
  },
  {
    key: "duration",
    flag: "--duration",
    arg: "<s>",
    help: "steady-state seconds measured per mode",
    parse: number(1, 7200, false),
  },
  {
    key: "churn",
    flag: "--churn",
    arg: "<s>",
    help: "every <s> seconds after the last join one viewer leaves and a new one joins (0 = off)",
    parse: number(0, 3600, false),
  },
  {
    key: "liveSyncCount",
    flag: "--live-sync-count",
    arg: "<n>",
    help: "swarmcast mode: hls.js liveSyncDurationCount, segments behind the live edge (0 = SDK default)",
    parse: number(0, 60, true),
  },
  {
    key: "liveSync",
    flag: "--live-sync",
    arg: "<s>",
    help: "swarmcast mode: hls.js liveSyncDuration, seconds behind the live edge (0 = SDK default)",
    parse: number(0, 600, false),
  },
  {
    key: "faultShare",
    flag: "--fault-share",
    arg: "<0..1>",
    help: "share of viewers whose origin segment requests get 503 during --fault-window",
    parse: number(0, 1, false),
  },
  {
    key: "faultWindow",
    flag: "--fault-window",
    arg: "<start,end>",
    help: "seconds after steady-state start in which the fault is active",
    parse: window,
  },
  {
    key: "uploadCap",
    flag: "--upload-cap",
    arg: "<kbps>",
    help: "swarmcast mode: upload cap per viewer, SDK option maxUploadKbps (0 = none)",
    parse: number(0, 10_000_000, false),
  },
  {
    key: "sdkConfig",
    flag: "--sdk-config",
    arg: "<json>",
    help: "swarmcast mode: extra SDK options as a JSON object (hls and core merge key by key; with --links the virtual viewers take no hls options)",
    parse: jsonObject,
  },
  {
    key: "tracker",
    flag: "--tracker",
    arg: "<kind>",
    help: `tracker the viewers announce to (${TRACKER_KINDS.join(", ")})`,
    parse: oneOf(TRACKER_KINDS),
  },
  {
    key: "sampleInterval",
    flag: "--sample-interval",
    arg: "<s>",
    help: "seconds between two samples of the viewers and the origin",
    parse: number(0.5, 60, false),
  },
  {
    key: "window",
    flag: "--window",
    arg: "<n>",
    help: "segments in the origin's live playlist",
    parse: number(3, 1000, true),
  },
  {
    key: "scenario",
    flag: "--scenario",
    arg: "<name>",
    help: `with --links: inject a fault in each mode's steady window (${SCENARIO_NAMES.join(", ")}); modes default to http-only,swarmcast`,
    parse: oneOf(SCENARIO_NAMES),
  },
  {
    key: "cdnFault",
    flag: "--cdn-fault",
    arg: "<kind>",
    help: `--scenario cdn-partial: how the failing segment requests fail (${CDN_FAULTS.join(", ")}; hang = held 10 s)`,
    parse: oneOf(CDN_FAULTS),
  },
  {
    key: "trackerRestart",
    flag: "--tracker-restart",
    arg: "<s|never>",
    help: "--scenario tracker-kill: seconds until the killed tracker is back on the same address, or never",
    parse: (raw, flag) => (raw === "never" ? "never" : number(1, 600, false)(raw, flag)),
  },
  {
    key: "hashes",
    flag: "--hashes",
    arg: "<on|off>",
    help: '--scenario lying-peer: on = SHA-256-tagged stream with integrity "required"; off = no hashes',
    parse: oneOf(["on", "off"] as const),
  },
  {
    key: "faultAt",
    flag: "--fault-at",
    arg: "<s>",
    help: "--scenario: seconds into the steady window at which the fault starts",
    parse: number(0, 3600, false),
  },
  {
    key: "soakMinutes",
    flag: "--soak-minutes",
    arg: "<min>",
    help: "--scenario viewer-soak: minutes the viewers play undisturbed",
    parse: number(1, 24 * 60, false),
  },
  { key: "name", flag: "--name", arg: "<name>", help: "base name of the result files", parse: safeName },
  { key: "out", flag: "--out", arg: "<dir>", help: "folder the result files are written to", parse: path },
];

function describeDefault(key: keyof BenchOptions): string {
  const value = DEFAULT_BENCH_OPTIONS[key];
  if (key === "name")
    return "<viewers>-viewers, with links audience-<viewers>-<browsers>b-<links>-ladder<n>, with a scenario scenario-<name>[-variant]";
  if (key === "scenario") return "none";
  if (key === "browsers") return "all without links, 0 with";
  if (key === "ladder") return "3 with links";
  if (key === "joinInterval") return "5, with links 1";
  if (key === "faultWindow") return "none";
  if (Array.isArray(value)) return value.join(",");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export function helpText(): string {
  const rows = OPTION_SPECS.map((s) => [`  ${s.flag} ${s.arg}`, `${s.help} [default: ${describeDefault(s.key)}]`]);
  rows.push(["  --help", "show this text"]);
  const width = Math.max(...rows.map((r) => r[0].length)) + 2;
  return [
    "swarmcast offload bench: N headless Chromium viewers per mode against a local live origin,",
    "CDN egress against bytes consumed, rebuffering, startup, latency and errors. With --links,",
    "the audience bench: virtual and Chromium viewers on emulated home links (root).",
    "",
    "usage: npm run bench -- [options]",
    "",
    ...rows.map(([a, b]) => a.padEnd(width) + b),
    "",
    "Results: <out>/<name>.json, <name>.md and <name>.svg. See bench/README.md.",
  ].join("\n");
}

/** Parses CLI arguments; `undefined` means --help was asked for. */
export function parseArgs(argv: string[]): Partial<BenchOptions> | undefined {
  const result: Partial<BenchOptions> = {};
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === "--help" || token === "-h") return undefined;
    const eq = token.indexOf("=");
    const flag = eq > 0 ? token.slice(0, eq) : token;
    const spec = OPTION_SPECS.find((s) => s.flag === flag);
    if (!spec) {
      throw new BenchOptionError(flag, `unknown option "${flag}"; run with --help for the list`);
    }
    let raw: string;
    if (eq > 0) raw = token.slice(eq + 1);
    else {
      if (i + 1 >= argv.length) throw new BenchOptionError(flag, `${flag} needs a value ${spec.arg}`);
      raw = argv[++i];
    }
    (result as Record<string, unknown>)[spec.key] = spec.parse(raw, flag);
  }
  return result;
}

/** Options the loopback bench has and the emulated-links run does not (yet). */
const LOOPBACK_ONLY: Array<keyof BenchOptions> = [
  "churn",
  "liveSyncCount",
  "liveSync",
  "faultShare",
  "uploadCap",
  "tracker",
  "window",
];

function checkLinkOptions(options: BenchOptions): void {
  if (options.links === "off") {
    if (options.scenario !== "")
      throw new BenchOptionError("--scenario", "--scenario needs --links (the audience bench runs the scenarios)");
    if (options.viewers > 64) throw new BenchOptionError("--viewers", "--viewers: at most 64 without --links");
    if (options.browsers !== null && options.browsers !== options.viewers)
      throw new BenchOptionError(
        "--browsers",
        `--browsers: without --links every viewer is a Chromium (${options.viewers}), got ${options.browsers}`,
      );
    if (options.ladder !== null)
      throw new BenchOptionError("--ladder", "--ladder needs --links (the loopback bench plays the bundled stream)");
    if (options.rtt !== DEFAULT_BENCH_OPTIONS.rtt)
      throw new BenchOptionError("--rtt", "--rtt needs --links (loopback has no emulated round trips)");
    return;
  }
  if (options.viewers < 2) throw new BenchOptionError("--viewers", "--viewers: at least 2 with --links");
  if (options.scenario === "starved" && (options.browsers ?? 0) === 0)
    throw new BenchOptionError(
      "--browsers",
      "--scenario starved throttles a Chromium viewer: give --browsers 1 or more",
    );
  // A scenario's own option given for another scenario would be ignored: say so.
  const scenarioOnly: Array<[keyof BenchOptions, string]> = [
    ["cdnFault", "cdn-partial"],
    ["trackerRestart", "tracker-kill"],
    ["hashes", "lying-peer"],
    ["soakMinutes", "viewer-soak"],
  ];
  for (const [key, scenario] of scenarioOnly) {
    if (options[key] !== DEFAULT_BENCH_OPTIONS[key] && options.scenario !== scenario) {
      const flag = OPTION_SPECS.find((s) => s.key === key)?.flag ?? key;
      throw new BenchOptionError(flag, `${flag} belongs to --scenario ${scenario}`);
    }
  }
  if ((options.browsers ?? 0) > options.viewers)
    throw new BenchOptionError(
      "--browsers",
      `--browsers: ${options.browsers} is more than --viewers ${options.viewers}`,
    );
  for (const key of LOOPBACK_ONLY) {
    if (JSON.stringify(options[key]) !== JSON.stringify(DEFAULT_BENCH_OPTIONS[key])) {
      const flag = OPTION_SPECS.find((s) => s.key === key)?.flag ?? key;
      throw new BenchOptionError(flag, `${flag} is not supported with --links yet`);
    }
  }
}

/** Merges over the defaults and checks combinations; errors name the option. */
export function resolveBenchOptions(input: Partial<BenchOptions> = {}): BenchOptions {
  for (const key of Object.keys(input)) {
    if (!(key in DEFAULT_BENCH_OPTIONS)) throw new BenchOptionError(key, `unknown bench option "${key}"`);
  }
  const options: BenchOptions = { ...DEFAULT_BENCH_OPTIONS, ...input };
  // Programmatic callers skip the CLI parsers: run the same checks on their values.
  for (const spec of OPTION_SPECS) {
    const value = options[spec.key];
    if ((spec.key === "name" || spec.key === "scenario") && value === "") continue;
    if ((spec.key === "browsers" || spec.key === "ladder") && value === null) continue;
    if (spec.key === "faultWindow" && options.faultShare === 0) continue;
    const raw = Array.isArray(value)
      ? value.join(",")
      : typeof value === "object"
        ? JSON.stringify(value)
        : String(value);
    spec.parse(raw, spec.flag);
  }
  if (options.faultShare > 0 && options.faultWindow[1] <= options.faultWindow[0]) {
    throw new BenchOptionError("--fault-window", "--fault-share needs a --fault-window start,end");
  }
  if (options.faultShare > 0 && options.faultWindow[0] >= options.duration) {
    throw new BenchOptionError(
      "--fault-window",
      `--fault-window starts at ${options.faultWindow[0]} s, after the ${options.duration} s steady state ends`,
    );
  }
  if (options.liveSync > 0 && options.liveSyncCount > 0) {
    throw new BenchOptionError(
      "--live-sync",
      "--live-sync and --live-sync-count both set the latency target; give one",
    );
  }
  checkLinkOptions(options);
  if (options.name === "") options.name = `${options.viewers}-viewers`;
  return {
    ...options,
    modes: [...options.modes],
    faultWindow: [...options.faultWindow] as [number, number],
    sdkConfig: { ...options.sdkConfig },
  };
}
