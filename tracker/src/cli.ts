/**
 * `swarmcast-tracker`: flags and SWARMCAST_TRACKER_* env variables (flags win), then run until
 * SIGTERM/SIGINT, which drain and exit 0.
 */
import {
  DEFAULT_TRACKER_OPTIONS,
  OPTION_SPECS,
  OptionError,
  parseOptionValue,
  type OptionSpec,
  type TrackerInit,
} from "./options";
import { startTracker } from "./index";

function defaultOf(s: OptionSpec): string {
  const [a, b] = s.key.split(".");
  const v =
    b === undefined
      ? (DEFAULT_TRACKER_OPTIONS as unknown as Record<string, unknown>)[a]
      : (DEFAULT_TRACKER_OPTIONS.limits as unknown as Record<string, unknown>)[b];
  if (Array.isArray(v)) return v.length ? v.join(",") : "(any)";
  if (v === "") return "(none)";
  return String(v);
}

export function helpText(): string {
  const rows = OPTION_SPECS.map((s) => {
    const flag = `--${s.flag}${s.kind === "bool" ? "" : s.kind === "hops" ? " [N]" : " <value>"}`;
    return `  ${flag.padEnd(36)}${s.help}\n  ${"".padEnd(36)}default ${defaultOf(s)}; env ${s.env}`;
  });
  return [
    "Usage: swarmcast-tracker [options]",
    "",
    "WebTorrent-protocol WebSocket tracker for swarmcast (PML / bittorrent-tracker clients).",
    "Serves ws:// (wss:// with --cert/--key) plus /health, /metrics, /stats.json on the same port.",
    "Every option can also be set with its environment variable; flags win.",
    "",
    "Options:",
    ...rows,
    `  ${"--help".padEnd(36)}show this help`,
    "",
  ].join("\n");
}

function assign(init: TrackerInit, s: OptionSpec, value: unknown): void {
  const [a, b] = s.key.split(".");
  if (b === undefined) (init as Record<string, unknown>)[a] = value;
  else ((init.limits ??= {}) as Record<string, unknown>)[b] = value;
}

/** Options from env then argv. Throws OptionError naming the flag or variable at fault. */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv): { init: TrackerInit; help: boolean } {
  const init: TrackerInit = {};
  for (const s of OPTION_SPECS) {
    const raw = env[s.env];
    if (raw !== undefined) assign(init, s, parseOptionValue(s, raw, s.env));
  }
  const byFlag = new Map(OPTION_SPECS.map((s) => [s.flag, s]));
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") {
      help = true;
      continue;
    }
    if (!arg.startsWith("--")) throw new OptionError(arg, "unexpected argument (options start with --)");
    const eq = arg.indexOf("=");
    let name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    let value: string | undefined = eq < 0 ? undefined : arg.slice(eq + 1);
    let s = byFlag.get(name);
    if (
      s === undefined &&
      name.startsWith("no-") &&
      byFlag.get(name.slice(3))?.kind === "bool" &&
      value === undefined
    ) {
      s = byFlag.get(name.slice(3));
      name = name.slice(3);
      value = "false";
    }
    if (s === undefined) throw new OptionError(`--${name}`, "unknown option (see --help)");
    if (value === undefined) {
      if (s.kind === "bool") value = "true";
      else if (s.kind === "hops") value = /^\d+$/.test(argv[i + 1] ?? "") ? argv[++i] : "true";
      else {
        value = argv[++i];
        if (value === undefined) throw new OptionError(`--${name}`, "needs a value");
      }
    }
    assign(init, s, parseOptionValue(s, value, `--${name}`));
  }
  return { init, help };
}

function flagOf(key: string): string {
  const s = OPTION_SPECS.find((x) => x.key === key);
  return s ? `--${s.flag}` : key;
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseCli(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof OptionError) {
      process.stderr.write(`swarmcast-tracker: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (parsed.help) {
    process.stdout.write(helpText());
    return;
  }
  let tracker;
  try {
    tracker = await startTracker({ ...parsed.init });
  } catch (err) {
    const msg =
      err instanceof OptionError
        ? `${flagOf(err.option)}: ${err.message.slice(err.option.length + 2)}`
        : (err as Error).message;
    process.stderr.write(`swarmcast-tracker: ${msg}\n`);
    process.exit(err instanceof OptionError ? 2 : 1);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    tracker.server.log.info({ signal }, "shutting down");
    tracker.close().then(
      () => process.exit(0),
      (err) => {
        tracker.server.log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((err: unknown) => {
  process.stderr.write(`swarmcast-tracker: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
