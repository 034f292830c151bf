/**
 * `swarmcast-token --secret S [--ttl 3600] [--sub NAME] [--origin O] [--swarm-id ID --stream …]
 * [--info-hash H]`: prints one access token.
 */
import { parseArgs } from "node:util";
import { PML_INFO_HASH_VERSION, swarmInfoHash, type StreamAttributes } from "./swarm-info-hash";
import { mintToken } from "./token";

const HELP = `Usage: swarmcast-token --secret <secret> [options]

Prints an access token for a tracker started with the same --secret
(env SWARMCAST_TRACKER_SECRET is used when --secret is absent).
  --secret <s>      HMAC secret shared with the tracker
  --ttl <s>         lifetime in seconds (default 3600; the tracker refuses more than its --max-token-ttl)
  --sub <name>      subject written in the token, shown in tracker logs
  --origin <o>      page origin the token is valid from, e.g. https://www.example.com
  --swarm-id <id>   bind the token to this swarm's renditions (the SDK's swarmId option);
                    needs one --stream per rendition
  --stream <desc>   a rendition as the player sees it: "main" or "secondary", then ;key=value
                    pairs among bitrate, codecs, width, height, frame-rate, video-range,
                    language, channels, name — e.g. "main;bitrate=800000;codecs=avc1.4d401f;width=1280;height=720"
  --info-hash <h>   bind the token to this 20-character info_hash (repeatable)
info_hashes are derived as p2p-media-loader ${PML_INFO_HASH_VERSION} derives them: re-mint bound tokens after
upgrading it.
`;

function fail(msg: string): never {
  process.stderr.write(`swarmcast-token: ${msg}\n`);
  process.exit(2);
}

const STREAM_KEYS: Record<string, keyof StreamAttributes> = {
  bitrate: "bitrate",
  codecs: "codecs",
  width: "width",
  height: "height",
  "frame-rate": "frameRate",
  "video-range": "videoRange",
  language: "language",
  channels: "channels",
  name: "name",
};

function parseStream(desc: string): StreamAttributes {
  const [type, ...pairs] = desc.split(";");
  if (type !== "main" && type !== "secondary") fail(`--stream: must start with "main" or "secondary", got "${desc}"`);
  const stream: StreamAttributes = { type };
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    const key = STREAM_KEYS[pair.slice(0, eq)];
    if (eq < 0 || key === undefined)
      fail(`--stream: unknown attribute "${pair}" (known: ${Object.keys(STREAM_KEYS).join(", ")})`);
    const value = pair.slice(eq + 1);
    if (key === "bitrate" || key === "width" || key === "height") {
      if (!/^\d+$/.test(value)) fail(`--stream: ${pair.slice(0, eq)} must be an integer, got "${value}"`);
      stream[key] = Number(value);
    } else {
      (stream as unknown as Record<string, string>)[key] = value;
    }
  }
  return stream;
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      secret: { type: "string" },
      ttl: { type: "string", default: "3600" },
      sub: { type: "string" },
      origin: { type: "string" },
      "swarm-id": { type: "string" },
      stream: { type: "string", multiple: true },
      "info-hash": { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
    },
  }));
} catch (err) {
  fail((err as Error).message);
}
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const secret = values.secret ?? process.env.SWARMCAST_TRACKER_SECRET ?? "";
if (!secret) fail("--secret: required (or set SWARMCAST_TRACKER_SECRET)");
const ttl = Number(values.ttl);
if (!Number.isFinite(ttl) || ttl <= 0) fail(`--ttl: expected a positive number of seconds, got "${values.ttl}"`);
const streams = (values.stream ?? []).map(parseStream);
const swarmId = values["swarm-id"];
if ((swarmId === undefined) !== (streams.length === 0)) fail("--swarm-id and --stream go together");
const infoHashes = [...(values["info-hash"] ?? []), ...streams.map((s) => swarmInfoHash(swarmId!, s))];
for (const h of infoHashes) if (h.length !== 20) fail(`--info-hash: must be 20 characters, got "${h}"`);
const token = mintToken(secret, {
  ttlSeconds: ttl,
  sub: values.sub,
  origin: values.origin,
  ...(infoHashes.length > 0 ? { infoHashes } : {}),
});
process.stdout.write(`${token}\n`);
