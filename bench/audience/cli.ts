/**
 * npm run bench:audience -- --viewers 25 --links default --ladder 3 [--modes http-only,swarmcast]
 *   [--duration 120] [--warmup 20] [--join-interval 1] [--name <name>] [--out bench/results]
 */
import { DEFAULT_AUDIENCE_OPTIONS, runAudienceBench, type AudienceOptions } from "./run";
import type { AudienceMode } from "./virtual-protocol";

const MODES: AudienceMode[] = ["http-only", "pml-defaults", "swarmcast"];

export function parseAudienceArgs(argv: string[]): AudienceOptions {
  const options: AudienceOptions = { ...DEFAULT_AUDIENCE_OPTIONS };
  const number = (flag: string, value: string | undefined, min: number) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min) throw new Error(`${flag} must be a number ≥ ${min}, got ${value}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[++i];
    switch (flag) {
      case "--viewers":
        options.viewers = Math.round(number(flag, value, 2));
        break;
      case "--modes": {
        const list = (value ?? "").split(",") as AudienceMode[];
        const bad = list.filter((m) => !MODES.includes(m));
        if (bad.length > 0) throw new Error(`--modes: unknown ${bad.join(", ")}; known: ${MODES.join(", ")}`);
        options.modes = list;
        break;
      }
      case "--links":
        options.links = value ?? "";
        break;
      case "--ladder": {
        if (value !== "1" && value !== "3")
          throw new Error(`--ladder must be 1 (the 1.6 Mbit/s rendition alone) or 3, got ${value}`);
        options.ladder = Number(value) as 1 | 3;
        break;
      }
      case "--duration":
        options.durationSec = number(flag, value, 5);
        break;
      case "--warmup":
        options.warmupSec = number(flag, value, 0);
        break;
      case "--join-interval":
        options.joinIntervalSec = number(flag, value, 0);
        break;
      case "--name":
        options.name = value ?? "";
        break;
      case "--out":
        options.outDir = value ?? "";
        break;
      default:
        throw new Error(`unknown option ${flag}`);
    }
  }
  return options;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let options: AudienceOptions;
  try {
    options = parseAudienceArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`bench:audience: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  }
  const { files } = await runAudienceBench(options);
  console.log(`wrote ${files.join(", ")}`);
}
