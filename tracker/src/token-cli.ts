/** `swarmcast-token --secret S --ttl 3600 [--sub NAME]`: prints one access token. */
import { parseArgs } from "node:util";
import { mintToken } from "./token";

const HELP = `Usage: swarmcast-token --secret <secret> [--ttl <seconds>] [--sub <subject>]

Prints an access token for a tracker started with the same --secret
(env SWARMCAST_TRACKER_SECRET is used when --secret is absent).
  --secret <s>   HMAC secret shared with the tracker
  --ttl <s>      lifetime in seconds (default 3600)
  --sub <name>   subject written in the token, shown in tracker logs
`;

function fail(msg: string): never {
  process.stderr.write(`swarmcast-token: ${msg}\n`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      secret: { type: "string" },
      ttl: { type: "string", default: "3600" },
      sub: { type: "string" },
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
process.stdout.write(`${mintToken(secret, { ttlSeconds: ttl, sub: values.sub })}\n`);
