// tests/setup.mjs on a machine where programs the suite starts are missing (a PATH holding only
// node, so apt-get is missing too): it stops with one line naming each and its Debian package.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const bin = mkdtempSync(join(tmpdir(), "swarmcast-setup-"));
after(() => rmSync(bin, { recursive: true, force: true }));

it("names what to install, in one line, when programs are missing and apt-get is not there", () => {
  symlinkSync(process.execPath, join(bin, "node"));
  const run = spawnSync(process.execPath, [join(ROOT, "tests/setup.mjs")], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, PATH: bin },
    timeout: 30_000,
  });
  assert.equal(run.status, 1);
  assert.equal(run.stdout, "", "no install attempted");
  const lines = run.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, run.stderr);
  assert.match(
    lines[0],
    /redis-server \(Debian: redis-server\), haproxy \(Debian: haproxy\), turnserver \(Debian: coturn\): install them and run again$/,
  );
});
