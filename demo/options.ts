/**
 * Every option of the demo, its default and its validation, in one place. The CLI and
 * `startDemo()` both go through {@link resolveDemoOptions}, so a bad value fails the same way.
 */
import { parseArgs } from "node:util";

export interface DemoOptions {
  /** Interface the page server listens on. The origin and tracker it starts stay on loopback. */
  host: string;
  /** Port of the page server; 0 picks a free one. */
  port: number;
  /** HLS playlist to play; empty = the bundled test stream on a local live origin. */
  stream: string;
  /** WebTorrent tracker (ws:// or wss://); empty = start a local tracker. */
  tracker: string;
}

export const DEFAULT_DEMO_OPTIONS: Readonly<DemoOptions> = Object.freeze({
  host: "127.0.0.1",
  port: 8080,
  stream: "",
  tracker: "",
});

/** Swarm id of the bundled stream: stable whatever host name the page is opened under. */
export const LOCAL_SWARM_ID = "swarmcast-demo";

export const HELP = `Usage: npm start -- [options]

Starts the swarmcast demo: a live test stream (the "CDN"), a tracker and a page that plays
the stream with peer-to-peer delivery, charts CDN vs peer bytes and lists the peers.
Open the printed URL, then press "Add a viewer" to watch two viewers share the stream.

  --port PORT        port of the demo page (default ${DEFAULT_DEMO_OPTIONS.port}; 0 picks a free one)
  --host HOST        interface to listen on (default ${DEFAULT_DEMO_OPTIONS.host}; 0.0.0.0 exposes
                     the page to your network; origin and tracker are reached through it)
  --stream URL       HLS playlist (http/https, served with CORS) to play instead of the
                     bundled test stream
  --tracker URL      WebTorrent tracker (ws:// or wss://) to use instead of starting one
  -h, --help         this text

The page also takes query parameters: ?src=<playlist>&tracker=<ws url>&swarm=<id>&ice=<stun urls>`;

/** A bad option value; `option` is the name a person typed (e.g. "--port"). */
export class DemoOptionError extends Error {
  override name = "DemoOptionError";
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`${option}: ${message}`);
  }
}

function checkUrl(option: string, value: string, protocols: string[], what: string): string {
  const trimmed = value.trim();
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new DemoOptionError(option, `expected ${what}, got "${value}" (not a URL)`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new DemoOptionError(option, `expected ${what}, got "${value}" (protocol ${url.protocol})`);
  }
  return trimmed;
}

/** Validates a partial option object over the defaults; throws {@link DemoOptionError}. */
export function resolveDemoOptions(input: Partial<DemoOptions> = {}): DemoOptions {
  for (const key of Object.keys(input)) {
    if (!(key in DEFAULT_DEMO_OPTIONS)) {
      throw new DemoOptionError(`--${key}`, `unknown option; known: ${Object.keys(DEFAULT_DEMO_OPTIONS).join(", ")}`);
    }
  }
  const o: DemoOptions = { ...DEFAULT_DEMO_OPTIONS, ...input };
  if (typeof o.port !== "number" || !Number.isInteger(o.port) || o.port < 0 || o.port > 65535) {
    throw new DemoOptionError("--port", `expected an integer 0-65535, got ${JSON.stringify(o.port)}`);
  }
  if (typeof o.host !== "string" || o.host.trim() === "" || /[\s/]/.test(o.host.trim())) {
    throw new DemoOptionError("--host", `expected an interface address or host name, got ${JSON.stringify(o.host)}`);
  }
  const stream =
    o.stream === ""
      ? ""
      : checkUrl("--stream", String(o.stream), ["http:", "https:"], "an http(s):// HLS playlist URL");
  const tracker =
    o.tracker === "" ? "" : checkUrl("--tracker", String(o.tracker), ["ws:", "wss:"], "a ws:// or wss:// tracker URL");
  return { host: o.host.trim(), port: o.port, stream, tracker };
}

export type CliResult = { help: true } | { help: false; options: DemoOptions };

/** Parses `process.argv.slice(2)`; throws {@link DemoOptionError} naming the bad option. */
export function parseDemoArgs(argv: string[]): CliResult {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: "string" },
        host: { type: "string" },
        stream: { type: "string" },
        tracker: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    const message = (err as Error).message;
    const named = /'(-{1,2}[^' ]+)/.exec(message)?.[1] ?? /"(-{1,2}[^" ]+)"/.exec(message)?.[1];
    throw new DemoOptionError(named ?? "arguments", `${message.replace(/\. To specify.*$/s, "")}; see --help`);
  }
  if (values.help) return { help: true };
  const input: Partial<DemoOptions> = {};
  if (values.port !== undefined) {
    const raw = String(values.port);
    if (!/^\d{1,5}$/.test(raw)) throw new DemoOptionError("--port", `expected an integer 0-65535, got "${raw}"`);
    input.port = Number(raw);
  }
  if (values.host !== undefined) input.host = String(values.host);
  if (values.stream !== undefined) {
    if (String(values.stream).trim() === "")
      throw new DemoOptionError("--stream", "expected an http(s):// HLS playlist URL, got an empty value");
    input.stream = String(values.stream);
  }
  if (values.tracker !== undefined) {
    if (String(values.tracker).trim() === "")
      throw new DemoOptionError("--tracker", "expected a ws:// or wss:// tracker URL, got an empty value");
    input.tracker = String(values.tracker);
  }
  return { help: false, options: resolveDemoOptions(input) };
}
