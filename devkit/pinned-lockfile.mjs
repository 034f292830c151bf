#!/usr/bin/env node
// Prints a package-lock.json for an empty project that pins the dependencies of the given
// packages to the exact versions this repository's lockfile resolves (and tests):
//   node devkit/pinned-lockfile.mjs swarmcast-tracker > pack/package-lock.json
// A workspace name (swarmcast, swarmcast-tracker) stands for its dependencies and peer
// dependencies; any other name for that package. Installing a packed tarball next to this lockfile
// needs no registry metadata, only the package tarballs `npm ci` put in npm's cache, so it works
// offline; the tracker's image installs its tarball the same way.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const ROOT_LOCKFILE = fileURLToPath(new URL("../package-lock.json", import.meta.url));

/** The lockfile path ("node_modules/…") a package named `name` resolves to from `from`. */
function resolveFrom(packages, from, name) {
  for (let base = from; ;) {
    const candidate = `${base ? `${base}/` : ""}node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!base) return undefined;
    const cut = base.lastIndexOf("/node_modules/");
    base = cut < 0 ? "" : base.slice(0, cut);
  }
}

export function pinnedLockfile(names, lockfile = JSON.parse(readFileSync(ROOT_LOCKFILE, "utf8"))) {
  const { packages } = lockfile;
  const workspaces = new Map(
    Object.entries(packages)
      .filter(([path, entry]) => path !== "" && !path.startsWith("node_modules/") && entry.name)
      .map(([, entry]) => [entry.name, entry]),
  );
  const roots = names.flatMap((name) => {
    const workspace = workspaces.get(name);
    return workspace ? Object.keys({ ...workspace.dependencies, ...workspace.peerDependencies }) : [name];
  });
  const pinned = {};
  const visit = (path) => {
    if (pinned[path]) return;
    const entry = packages[path];
    if (entry.link) throw new Error(`${path} is a workspace link; pin registry packages only`);
    // Whether a package is a dev or peer dependency is the new project's business, not ours.
    const pin = { ...entry };
    delete pin.dev;
    delete pin.devOptional;
    delete pin.peer;
    pinned[path] = pin;
    const wanted = { ...entry.dependencies, ...entry.optionalDependencies, ...entry.peerDependencies };
    for (const name of Object.keys(wanted)) {
      const dependency = resolveFrom(packages, path, name);
      if (dependency) visit(dependency);
    }
  };
  for (const name of roots) {
    const path = resolveFrom(packages, "", name);
    if (!path) throw new Error(`${name} is not in the repository's lockfile`);
    visit(path);
  }
  const sorted = Object.fromEntries(Object.entries(pinned).sort(([a], [b]) => a.localeCompare(b)));
  return { lockfileVersion: 3, requires: true, packages: { "": {}, ...sorted } };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const names = process.argv.slice(2);
  if (names.length === 0) {
    console.error("usage: node devkit/pinned-lockfile.mjs <package or workspace name>...");
    process.exit(1);
  }
  process.stdout.write(`${JSON.stringify(pinnedLockfile(names), null, 2)}\n`);
}
