#!/usr/bin/env node
// Makes sure the real programs the suite starts are installed, before tests/run.mjs moves the
// run into a network namespace that reaches nothing but loopback. As root on a machine with
// apt-get, missing ones are installed from Debian; anywhere else it stops with one line that
// says what to install.
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { findChromium } from "../devkit/find-chromium.mjs";

/** A program on PATH, where the tests look for it too. */
function onPath(program) {
  return () => {
    for (const folder of (process.env.PATH ?? "").split(delimiter).filter(Boolean)) {
      const path = join(folder, program);
      try {
        accessSync(path, constants.X_OK);
        return path;
      } catch {
        // next folder
      }
    }
    return undefined;
  };
}

/** What the tests start, how to find it, and the Debian package that provides it. */
const REQUIREMENTS = [
  {
    program: "chromium",
    find: findChromium,
    debian: "chromium",
    elsewhere: "set CHROMIUM_PATH, or run `npx playwright-core install chromium`",
  },
  { program: "iptables", find: onPath("iptables"), debian: "iptables" },
  { program: "redis-server", find: onPath("redis-server"), debian: "redis-server" },
  { program: "haproxy", find: onPath("haproxy"), debian: "haproxy" },
  { program: "turnserver", find: onPath("turnserver"), debian: "coturn" },
];

function canUseApt() {
  if (process.platform !== "linux" || process.getuid?.() !== 0) return false;
  return spawnSync("apt-get", ["--version"], { stdio: "ignore" }).status === 0;
}

function aptGet(args) {
  const run = spawnSync("apt-get", args, {
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  return run.status === 0;
}

function missing() {
  return REQUIREMENTS.filter((requirement) => !requirement.find());
}

function instructions(requirements) {
  return requirements
    .map((r) =>
      r.elsewhere
        ? `${r.program} (Debian: ${r.debian}; elsewhere ${r.elsewhere})`
        : `${r.program} (Debian: ${r.debian})`,
    )
    .join(", ");
}

let absent = missing();
if (absent.length > 0 && canUseApt()) {
  const packages = absent.map((r) => r.debian);
  console.log(`# installing ${packages.join(" ")} with apt-get`);
  if (aptGet(["update", "-qq"]) && aptGet(["install", "-y", "-qq", ...packages])) absent = missing();
}
if (absent.length > 0) {
  console.error(`npm test needs ${instructions(absent)}: install ${absent.length === 1 ? "it" : "them"} and run again`);
  process.exit(1);
}
