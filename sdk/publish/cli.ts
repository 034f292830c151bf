/**
 * `swarmcast-hash`: writes each segment's SHA-256 into HLS media playlists (and optionally a
 * JSON integrity map) so viewers can check segments received from peers.
 */
import { readFileSync, readdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { parseArgs } from "node:util";
import { integrityMap, PlaylistError, stripPlaylist, tagPlaylist, type HashedSegment } from "./hash-playlist";

const HELP = `Usage: swarmcast-hash [options] <playlist.m3u8 | folder>...

Writes #EXT-X-SWARMCAST-SHA256:<hex> before every segment of each media playlist, replacing
tags written earlier (running it again is safe). A folder means every .m3u8 below it; a
multivariant playlist means the media playlists it lists. Segment URIs must be local files
relative to their playlist.

  --map <file.json>  also write a JSON integrity map of every segment hashed, keys relative
                     to the map's folder (serve it from there; pass its URL as integrityMap)
  --strip            remove the tags instead
  --check            write nothing; exit 1 if a tag is missing or does not match its segment
  --quiet            print nothing but errors
  -h, --help
`;

class UsageError extends Error {}

interface Options {
  map?: string;
  strip: boolean;
  check: boolean;
  quiet: boolean;
  targets: string[];
}

function parse(argv: string[]): Options {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        map: { type: "string" },
        strip: { type: "boolean", default: false },
        check: { type: "boolean", default: false },
        quiet: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  if (positionals.length === 0) throw new UsageError("give at least one playlist or folder");
  if (values.strip && values.check) throw new UsageError("--strip and --check cannot be combined");
  if (values.map !== undefined && (values.strip || values.check))
    throw new UsageError("--map writes hashes; it cannot be combined with --strip or --check");
  if (values.map !== undefined && !values.map.endsWith(".json"))
    throw new UsageError(`--map: expected a .json file name, got "${values.map}"`);
  return { map: values.map, strip: values.strip, check: values.check, quiet: values.quiet, targets: positionals };
}

function findPlaylists(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return findPlaylists(path);
      return entry.isFile() && entry.name.toLowerCase().endsWith(".m3u8") ? [path] : [];
    });
}

function localPath(playlist: string, uri: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(uri))
    throw new Error(`not a local file (only URIs relative to the playlist can be hashed)`);
  return resolve(dirname(playlist), decodeURIComponent(uri.split(/[?#]/)[0]));
}

function writeAtomically(path: string, text: string): void {
  const temp = `${path}.swarmcast-${process.pid}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, path);
}

function mapKey(mapFile: string, segmentFile: string): string {
  return relative(dirname(mapFile), segmentFile).split(sep).map(encodeURIComponent).join("/");
}

export function run(argv: string[], log: (line: string) => void = (l) => process.stdout.write(l + "\n")): number {
  const options = parse(argv);
  const say = options.quiet ? () => undefined : log;
  const queue: string[] = [];
  for (const target of options.targets) {
    let stat;
    try {
      stat = statSync(target);
    } catch {
      throw new UsageError(`"${target}": no such file or folder`);
    }
    queue.push(...(stat.isDirectory() ? findPlaylists(resolve(target)) : [resolve(target)]));
  }
  const fromFolder = new Set(queue);
  const done = new Set<string>();
  const mapEntries: Array<{ key: string; byteRange?: HashedSegment["byteRange"]; hash: string }> = [];
  let problems = 0;
  while (queue.length > 0) {
    const playlist = queue.shift() as string;
    if (done.has(playlist)) continue;
    done.add(playlist);
    const name = relative(process.cwd(), playlist) || playlist;
    const text = readFileSync(playlist, "utf8");
    if (options.strip) {
      const stripped = stripPlaylist(text);
      if (stripped !== text) writeAtomically(playlist, stripped);
      say(`${name}: tags removed`);
      continue;
    }
    const result = tagPlaylist(text, (uri) => readFileSync(localPath(playlist, uri)), name);
    if (result.multivariant) {
      const variants = result.variants.flatMap((uri) => {
        try {
          return [localPath(playlist, uri)];
        } catch {
          return [];
        }
      });
      // Listed by a folder walk already, or followed from here.
      for (const v of variants) if (!fromFolder.has(v)) queue.push(v);
      say(`${name}: multivariant, ${variants.length} media playlist(s)`);
      continue;
    }
    if (options.check) {
      const missing = result.text === text ? 0 : countDifferences(text, result.text);
      if (missing > 0) {
        problems++;
        log(`${name}: ${missing} segment tag(s) missing or wrong`);
      } else {
        say(`${name}: ${result.segments.length} segment(s) OK`);
      }
      continue;
    }
    if (result.text !== text) writeAtomically(playlist, result.text);
    say(`${name}: ${result.segments.length} segment(s) tagged`);
    if (options.map) {
      const mapFile = resolve(options.map);
      for (const s of result.segments) {
        mapEntries.push({ key: mapKey(mapFile, localPath(playlist, s.uri)), byteRange: s.byteRange, hash: s.hash });
      }
    }
  }
  if (options.map) {
    writeAtomically(resolve(options.map), JSON.stringify(integrityMap(mapEntries), null, 1) + "\n");
    say(`${options.map}: ${mapEntries.length} segment(s)`);
  }
  return problems > 0 ? 1 : 0;
}

/** Hash lines that differ between the playlist as it is and as it should be. */
function countDifferences(actual: string, expected: string): number {
  const tags = (t: string) => t.split(/\r?\n/).filter((l) => l.startsWith("#EXT-X-SWARMCAST-SHA256"));
  const have = tags(actual);
  const want = tags(expected);
  let differences = Math.abs(want.length - have.length);
  for (let i = 0; i < Math.min(have.length, want.length); i++) if (have[i] !== want[i]) differences++;
  return differences || 1;
}

export function main(argv = process.argv.slice(2)): void {
  try {
    process.exitCode = run(argv);
  } catch (error) {
    const usage = error instanceof UsageError;
    const known = usage || error instanceof PlaylistError || (error as NodeJS.ErrnoException).code !== undefined;
    process.stderr.write(
      `swarmcast-hash: ${known ? (error as Error).message : String((error as Error).stack ?? error)}\n`,
    );
    if (usage) process.stderr.write("Try swarmcast-hash --help\n");
    process.exitCode = 2;
  }
}
