// What users of the two packages get: `npm pack` both workspaces, install the tarballs into
// empty projects outside the repository, offline (npm's cache, versions pinned by the
// repository's lockfile), then use them as a user would. `npm test` builds first.
import assert from "node:assert/strict";
import { spawn, spawnSync, type SpawnSyncOptions } from "node:child_process";
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { SEGMENT_HASH_TAG } from "../../shared/protocol";
import { startStage } from "../../devkit/stage";
import { pinnedLockfile } from "../../devkit/pinned-lockfile.mjs";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "swarmcast-pack-"));
const tarballs = join(work, "tarballs");
/** Installed as the tracker's Dockerfile installs it. */
const trackerApp = join(work, "tracker-app");
/** A site's project: the SDK, the tracker as a library, TypeScript. */
const site = join(work, "site");
after(() => rmSync(work, { recursive: true, force: true }));

// No registry: everything comes from the cache `npm ci` filled.
const npmEnv = {
  ...process.env,
  npm_config_offline: "true",
  npm_config_update_notifier: "false",
  npm_config_fund: "false",
  npm_config_audit: "false",
};

function run(command: string, args: string[], options: SpawnSyncOptions & { cwd: string }): string {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: 120_000, env: npmEnv, ...options });
  const output = `${String(result.stdout ?? "")}${String(result.stderr ?? "")}`;
  assert.equal(result.status, 0, `${command} ${args.join(" ")} in ${options.cwd} failed:\n${output}`);
  return String(result.stdout);
}

/** The RUN instruction after the Dockerfile's "Install steps" comment, continuation lines joined. */
function dockerInstallSteps(): string {
  const lines = readFileSync(join(ROOT, "Dockerfile"), "utf8").split("\n");
  const start = lines.findIndex((line) => line.startsWith("# Install steps")) + 1;
  assert.ok(start > 0 && lines[start].startsWith("RUN "), "Dockerfile: RUN after '# Install steps'");
  let end = start;
  while (lines[end].endsWith("\\")) end++;
  return lines
    .slice(start, end + 1)
    .map((line) => line.replace(/\\$/, "").trim())
    .join(" ")
    .replace(/^RUN /, "");
}

function tarball(name: string): string {
  const file = readdirSync(tarballs).find((f) => f.startsWith(`${name}-`) && /^\d/.test(f.slice(name.length + 1)));
  assert.ok(file, `${name} tarball packed`);
  return join(tarballs, file);
}

function lockedVersion(name: string): string {
  const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8"));
  return lock.packages[`node_modules/${name}`].version;
}

describe("the packed packages, installed", () => {
  before(() => {
    mkdirSync(tarballs);
    run("npm", ["pack", "-w", "sdk", "-w", "tracker", "--pack-destination", tarballs], { cwd: ROOT });

    // The Dockerfile's install steps, as they are.
    mkdirSync(join(trackerApp, "pack"), { recursive: true });
    cpSync(tarball("swarmcast-tracker"), join(trackerApp, "pack", basename(tarball("swarmcast-tracker"))));
    writeFileSync(join(trackerApp, "pack", "package-lock.json"), JSON.stringify(pinnedLockfile(["swarmcast-tracker"])));
    run("sh", ["-c", dockerInstallSteps()], { cwd: trackerApp });

    mkdirSync(join(site, "tarballs"), { recursive: true });
    cpSync(tarball("swarmcast"), join(site, "tarballs", "swarmcast.tgz"));
    cpSync(tarball("swarmcast-tracker"), join(site, "tarballs", "swarmcast-tracker.tgz"));
    writeFileSync(
      join(site, "package.json"),
      JSON.stringify({
        name: "site",
        private: true,
        type: "module",
        dependencies: {
          swarmcast: "file:tarballs/swarmcast.tgz",
          "swarmcast-tracker": "file:tarballs/swarmcast-tracker.tgz",
          typescript: lockedVersion("typescript"),
          "@types/node": lockedVersion("@types/node"),
        },
      }),
    );
    writeFileSync(
      join(site, "package-lock.json"),
      JSON.stringify(pinnedLockfile(["swarmcast", "swarmcast-tracker", "typescript", "@types/node"])),
    );
    run("npm", ["install", "--ignore-scripts"], { cwd: site });
  });

  it("installs copies, not links into the repository", () => {
    for (const dir of [
      join(trackerApp, "node_modules/swarmcast-tracker"),
      join(site, "node_modules/swarmcast"),
      join(site, "node_modules/swarmcast-tracker"),
    ]) {
      assert.ok(!lstatSync(dir).isSymbolicLink(), `${dir} is a copy`);
    }
    const sdkPackage = JSON.parse(readFileSync(join(site, "node_modules/swarmcast/package.json"), "utf8"));
    for (const name of ["ws", "pino", "prom-client"]) {
      assert.ok(!(name in (sdkPackage.dependencies ?? {})), `the SDK does not depend on ${name}`);
    }
    assert.ok(
      !existsSync(join(trackerApp, "node_modules/typescript")) && !existsSync(join(trackerApp, "node_modules/tsx")),
      "no TypeScript at run time",
    );
  });

  it("swarmcast-tracker --help, swarmcast-token, and a tracker answering /health", async () => {
    assert.match(run("npx", ["swarmcast-tracker", "--help"], { cwd: trackerApp }), /^Usage: swarmcast-tracker/);
    assert.match(
      run("npx", ["swarmcast-token", "--secret", "s3cret", "--ttl", "60"], { cwd: trackerApp }),
      /^[\w-]+\.[\w-]+\n$/,
    );

    const child = spawn(
      join(trackerApp, "node_modules/.bin/swarmcast-tracker"),
      ["--host", "127.0.0.1", "--port", "0"],
      { cwd: trackerApp, env: npmEnv },
    );
    try {
      const httpUrl = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (chunk) => {
          out += chunk;
          const url = /"url":"ws:\/\/([^"]+)"/.exec(out)?.[1];
          if (url) resolve(`http://${url}`);
        });
        child.on("exit", (code) => reject(new Error(`tracker exited (${code}): ${out}`)));
      });
      const health = await fetch(`${httpUrl}/health`);
      assert.equal(health.status, 200);
    } finally {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      assert.equal(await exited, 0, "drains and exits 0 on SIGTERM");
    }
  });

  it("swarmcast-hash tags a playlist", () => {
    const stream = join(site, "stream");
    mkdirSync(stream);
    writeFileSync(join(stream, "seg-0.ts"), "segment zero");
    writeFileSync(join(stream, "seg-1.ts"), "segment one");
    writeFileSync(
      join(stream, "index.m3u8"),
      "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nseg-0.ts\n#EXTINF:2,\nseg-1.ts\n#EXT-X-ENDLIST\n",
    );
    run("npx", ["swarmcast-hash", "index.m3u8"], { cwd: stream });
    const tagged = readFileSync(join(stream, "index.m3u8"), "utf8");
    assert.equal(tagged.split(SEGMENT_HASH_TAG).length - 1, 2, tagged);
    run("npx", ["swarmcast-hash", "--check", "index.m3u8"], { cwd: stream });
  });

  it("a strict TypeScript project type-checks against both packages", () => {
    writeFileSync(
      join(site, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          lib: ["ES2022", "DOM"],
          types: ["node"],
        },
        files: ["player.ts", "tracker.ts", "wrong.ts"],
      }),
    );
    writeFileSync(
      join(site, "player.ts"),
      `import { attach, version, SwarmcastOptionError, type SwarmcastOptions, type SwarmcastStats } from "swarmcast";
const options: SwarmcastOptions = { src: "https://cdn.example/live.m3u8", trackers: ["wss://tracker.example"] };
const player = attach(document.querySelector("video")!, options);
player.on("stats", (stats: SwarmcastStats) => console.log(version, stats.offloadRatio));
export const isOptionError = (e: unknown): boolean => e instanceof SwarmcastOptionError && typeof e.option === "string";
`,
    );
    writeFileSync(
      join(site, "tracker.ts"),
      `import { startTracker, mintToken, type RunningTracker } from "swarmcast-tracker";
const tracker: RunningTracker = await startTracker({ port: 0, secret: "s3cret" });
const token: string = mintToken("s3cret", { ttlSeconds: 60 });
console.log(tracker.url, token);
await tracker.close();
`,
    );
    // The check bites: were the installed types missing or `any`, this directive would be unused, an error.
    writeFileSync(
      join(site, "wrong.ts"),
      `import { attach } from "swarmcast";
// @ts-expect-error src must be a string
attach(document.createElement("video"), { src: 42, trackers: [] });
`,
    );
    run(process.execPath, [join(site, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], { cwd: site });
  });

  it("a page loading node_modules/swarmcast/dist/swarmcast.js by script tag plays in Chromium", async () => {
    writeFileSync(
      join(site, "index.html"),
      `<!doctype html><video id="v" muted playsinline></video>
<script src="node_modules/swarmcast/dist/swarmcast.js"></script>
<script>
  const q = new URLSearchParams(location.search);
  window.player = Swarmcast.attach(document.getElementById("v"), { src: q.get("src"), trackers: [q.get("tracker")], iceServers: [] });
  document.getElementById("v").play();
</script>`,
    );
    const stage = await startStage({ routes: { "/site/": site } });
    try {
      const page = await (await stage.browser.newContext()).newPage();
      const query = new URLSearchParams({ src: stage.origin.liveUrl("site"), tracker: stage.tracker.url });
      await page.goto(`${stage.pages.url}/site/index.html?${query}`);
      await page.waitForFunction(() => (document.getElementById("v") as HTMLVideoElement).currentTime > 1, undefined, {
        timeout: 60_000,
      });
      const installed = JSON.parse(readFileSync(join(site, "node_modules/swarmcast/package.json"), "utf8")).version;
      assert.equal(
        await page.evaluate(() => (window as unknown as { Swarmcast: { version: string } }).Swarmcast.version),
        installed,
      );
    } finally {
      await stage.close();
    }
  });
});
