#!/usr/bin/env node
// Runs every *.test.ts under tests/ with node's test runner. As root, where `unshare -n` works,
// the run happens inside a fresh network namespace with only loopback up, so nothing a test
// starts (browsers included) can reach beyond this machine.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const filters = process.argv.slice(2);

function findTests(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === "node_modules" || name === "output") return [];
    if (statSync(path).isDirectory()) return findTests(path);
    return name.endsWith(".test.ts") ? [path] : [];
  });
}

const files = findTests(join(root, "tests"))
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(" ")}`);
  process.exit(1);
}

const nodeArgs = [
  "--import",
  "tsx",
  "--test",
  "--test-concurrency=1",
  // A hung browser or socket fails its test instead of stalling the suite.
  "--test-timeout=240000",
  "--test-force-exit",
  "--test-reporter=spec",
  "--test-reporter-destination=stdout",
  "--test-reporter=./tests/file-times.mjs",
  "--test-reporter-destination=/dev/null",
  ...files,
];

function canIsolateNetwork() {
  if (process.platform !== "linux" || process.getuid?.() !== 0) return false;
  if (process.env.SWARMCAST_NO_NETNS === "1") return false;
  const probe = spawnSync("unshare", ["-n", "true"], { stdio: "ignore" });
  return probe.status === 0;
}

// The whole suite takes a few minutes; past this something is stuck, and CI must still end.
const SUITE_TIMEOUT_MS = 25 * 60 * 1000;
const spawnOptions = { cwd: root, stdio: "inherit", timeout: SUITE_TIMEOUT_MS, killSignal: "SIGKILL" };

let result;
if (canIsolateNetwork()) {
  console.log("# tests run in a network namespace with only loopback");
  const quoted = [process.execPath, ...nodeArgs].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  result = spawnSync("unshare", ["-n", "sh", "-c", `ip link set lo up && exec ${quoted}`], {
    ...spawnOptions,
    env: { ...process.env, SWARMCAST_NETNS: "1" },
  });
} else {
  result = spawnSync(process.execPath, nodeArgs, spawnOptions);
}
if (result.error) console.error(`test run stopped: ${result.error.message}`);
process.exit(result.status ?? 1);
