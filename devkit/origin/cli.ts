import { parseArgs } from "node:util";
import { DEFAULT_ORIGIN_OPTIONS, startOrigin } from "./index.js";

const HELP = `Usage: tsx devkit/origin/cli.ts [options]

Serves the bundled test stream as live HLS (sliding window over a looped clip) and as VOD,
with CORS, counting bytes per client.

  --host HOST        listen address (default ${DEFAULT_ORIGIN_OPTIONS.host})
  --port PORT        listen port (default 8080; 0 picks a free one)
  --playlist PATH    VOD media playlist to loop (default: the bundled test stream)
  --window N         segments in the live playlist (default ${DEFAULT_ORIGIN_OPTIONS.windowSegments})
  --no-hash-tags     do not publish segment SHA-256 tags
  -h, --help         this text`;

const { values } = parseArgs({
  options: {
    host: { type: "string" },
    port: { type: "string" },
    playlist: { type: "string" },
    window: { type: "string" },
    "no-hash-tags": { type: "boolean" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const port = Number(values.port ?? 8080);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be an integer 0-65535, got "${values.port}"`);
  process.exit(2);
}
const origin = await startOrigin({
  host: values.host ?? DEFAULT_ORIGIN_OPTIONS.host,
  port,
  ...(values.playlist ? { mediaPlaylist: values.playlist } : {}),
  ...(values.window ? { windowSegments: Number(values.window) } : {}),
  hashTags: !values["no-hash-tags"],
});
console.log(`live: ${origin.liveUrl()}\nvod:  ${origin.vodUrl()}`);
const stop = () => void origin.close().then(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
