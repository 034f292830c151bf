#!/usr/bin/env node
// Runs every *.test.ts under tests/ with node's test runner, one file at a time, and ends with a
// table of each file's wall time. As root, where `unshare -n` works, the run happens inside a
// fresh network namespace with only loopback up, so nothing a test starts (browsers included)
// can reach beyond this machine.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const filters = process.argv.slice(2);

// The whole suite takes a few minutes; past this something is stuck, and CI must still end.
const SUITE_TIMEOUT_MS = 25 * 60 * 1000;
// A CI log is often read from its tail: the failures of every file are repeated there, this long at most.
const FAILURE_LINES_PER_FILE = 120;

function findTests(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === "node_modules" || name === "output") return [];
    if (statSync(path).isDirectory()) return findTests(path);
    return name.endsWith(".test.ts") ? [path] : [];
  });
}

function canIsolateNetwork() {
  if (process.platform !== "linux" || process.getuid?.() !== 0) return false;
  if (process.env.SWARMCAST_NO_NETNS === "1") return false;
  const probe = spawnSync("unshare", ["-n", "true"], { stdio: "ignore" });
  return probe.status === 0;
}

/** Runs this script again inside a loopback-only network namespace. */
function runIsolated() {
  console.log("# tests run in a network namespace with only loopback");
  const argv = [process.execPath, fileURLToPath(import.meta.url), ...filters];
  const quoted = argv.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const result = spawnSync("unshare", ["-n", "sh", "-c", `ip link set lo up && exec ${quoted}`], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, SWARMCAST_NETNS: "1" },
  });
  if (result.error) console.error(`test run stopped: ${result.error.message}`);
  return result.status ?? 1;
}

function runFile(file, timeoutMs, reportDir) {
  const started = performance.now();
  const report = join(reportDir, `${file.replaceAll("/", "_")}.txt`);
  const result = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      "--test",
      // A hung browser or socket fails its test instead of stalling the suite.
      "--test-timeout=240000",
      "--test-force-exit",
      "--test-reporter=spec",
      "--test-reporter-destination=stdout",
      // The same report into a file, whose failures are repeated at the end of the run.
      "--test-reporter=spec",
      `--test-reporter-destination=${report}`,
      file,
    ],
    { cwd: root, stdio: "inherit", timeout: timeoutMs, killSignal: "SIGKILL" },
  );
  const seconds = (performance.now() - started) / 1000;
  if (result.error) console.error(`${file} stopped: ${result.error.message}`);
  return { file, seconds, passed: result.status === 0, report };
}

/** The "failing tests" part of a file's spec report (assertion messages and stacks), or its tail. */
function failureSection(report) {
  let text;
  try {
    text = readFileSync(report, "utf8");
  } catch {
    return "(no report: the test process did not write one)";
  }
  const lines = text.split("\n");
  const at = lines.findIndex((line) => line.includes("failing tests:"));
  const section = at >= 0 ? lines.slice(at) : lines.slice(-FAILURE_LINES_PER_FILE);
  const cut = section.length > FAILURE_LINES_PER_FILE;
  return section.slice(0, FAILURE_LINES_PER_FILE).join("\n") + (cut ? "\n[...]" : "");
}

function printFailures(runs) {
  for (const r of runs.filter((run) => !run.passed && run.report)) {
    console.log(`\n# failures in ${r.file}\n${failureSection(r.report)}`);
  }
}

function printTimes(runs) {
  const width = Math.max(...runs.map((r) => r.file.length));
  const total = runs.reduce((sum, r) => sum + r.seconds, 0);
  console.log("\n# time per test file");
  for (const r of runs) {
    console.log(`# ${r.file.padEnd(width)}  ${r.seconds.toFixed(1).padStart(6)} s  ${r.passed ? "ok" : "FAILED"}`);
  }
  console.log(`# ${"total".padEnd(width)}  ${total.toFixed(1).padStart(6)} s`);
  const failed = runs.filter((r) => !r.passed).length;
  console.log(`files: ${runs.length - failed} passed, ${failed} failed`);
}

function main() {
  const files = findTests(join(root, "tests"))
    .map((f) => relative(root, f))
    .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
    .sort();
  if (files.length === 0) {
    console.error(`no test files match ${filters.join(" ")}`);
    return 1;
  }
  if (process.env.SWARMCAST_NETNS !== "1" && canIsolateNetwork()) return runIsolated();

  const deadline = performance.now() + SUITE_TIMEOUT_MS;
  const reportDir = mkdtempSync(join(tmpdir(), "swarmcast-tests-"));
  const runs = [];
  for (const file of files) {
    const left = deadline - performance.now();
    if (left <= 0) {
      console.error(`suite timeout: ${file} and later files not run`);
      runs.push({ file, seconds: 0, passed: false });
      continue;
    }
    runs.push(runFile(file, Math.ceil(left), reportDir));
  }
  printFailures(runs);
  rmSync(reportDir, { recursive: true, force: true });
  printTimes(runs);
  return runs.every((r) => r.passed) ? 0 : 1;
}

process.exit(main());
