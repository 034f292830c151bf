// ESLint for the whole tree: typescript-eslint's type-aware recommended rules, a few tuned below
// (each with its reason), and the import boundaries between the top folders.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

// ---- Import boundaries -------------------------------------------------------------------------
// The SDK and the tracker are two packages that share only shared/. demo/ and bench/ use each
// package through its public entry, as an application would, plus the dev-only infrastructure in
// devkit/. An import is matched as written: a relative path that climbs to a top folder
// ("../../tracker/src/core") or a package name ("swarmcast-tracker/internal").

/** The public entry of each package, by its folder in this repo and by its package name. */
const PACKAGES = {
  // swarmcast/engine (sdk/src/engine-entry) is the SDK's second public entry, for players without hls.js.
  sdk: { entries: ["sdk/src/index", "sdk/src/engine-entry"], name: "swarmcast", subpaths: ["engine"] },
  tracker: { entries: ["tracker/src/index"], name: "swarmcast-tracker", subpaths: [] },
};

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** A relative import that climbs to the top folder `folder`. */
const climbsTo = (folder) => `^(\\.\\./)+${escape(folder)}/`;

/** Imports of anything in a top folder, by path (and by package name if it is a package). */
function wholeFolder(folder, reason) {
  const patterns = [{ regex: climbsTo(folder), message: reason }];
  const pkg = PACKAGES[folder];
  if (pkg) patterns.push({ regex: `^${escape(pkg.name)}(/|$)`, message: reason });
  return patterns;
}

/** Imports of a package's internals: anything in its folder but its public entry (and `alsoAllowed`). */
function packageInternals(folder, alsoAllowed = []) {
  const { entries, name, subpaths } = PACKAGES[folder];
  const message = `use the public entries (${name}, ${entries.map((e) => `${e}.ts`).join(", ")}), not the package's internals`;
  const inside = [...entries, ...alsoAllowed].map((entry) => escape(entry.slice(folder.length + 1))).join("|");
  const allowed = ["package\\.json", ...subpaths.map(escape)].join("|");
  return [
    { regex: `${climbsTo(folder)}(?!(${inside})(\\.js)?$)`, message },
    { regex: `^${escape(name)}/(?!(${allowed})$)`, message },
  ];
}

function boundary(files, patterns) {
  return { files, rules: { "no-restricted-imports": ["error", { patterns }] } };
}

const notForPackages = "a published package cannot depend on the repo's apps, benches, tests or dev tools";
const boundaries = [
  boundary(
    ["sdk/**"],
    [
      ...wholeFolder("tracker", "the SDK and the tracker share only shared/"),
      ...["demo", "bench", "devkit", "tests"].flatMap((folder) => wholeFolder(folder, notForPackages)),
    ],
  ),
  boundary(
    ["tracker/**"],
    [
      ...wholeFolder("sdk", "the SDK and the tracker share only shared/"),
      ...["demo", "bench", "devkit", "tests"].flatMap((folder) => wholeFolder(folder, notForPackages)),
    ],
  ),
  boundary(
    ["shared/**"],
    ["sdk", "tracker", "demo", "bench", "devkit", "tests"].flatMap((folder) =>
      wholeFolder(folder, "shared/ is the protocol both packages compile in; it depends on nothing of theirs"),
    ),
  ),
  boundary(
    ["devkit/**"],
    [
      ...packageInternals("sdk"),
      ...packageInternals("tracker"),
      ...["demo", "bench", "tests"].flatMap((folder) =>
        wholeFolder(folder, "devkit/ serves tests, bench and demo; it depends on none of them"),
      ),
    ],
  ),
  boundary(
    ["demo/**"],
    [
      ...packageInternals("sdk"),
      ...packageInternals("tracker"),
      ...wholeFolder("bench", "shared dev infrastructure belongs in devkit/"),
      ...wholeFolder("tests", "shared dev infrastructure belongs in devkit/"),
    ],
  ),
  boundary(
    ["bench/**"],
    [
      ...packageInternals("sdk"),
      ...packageInternals("tracker"),
      ...wholeFolder("demo", "shared dev infrastructure belongs in devkit/"),
      ...wholeFolder("tests", "shared dev infrastructure belongs in devkit/"),
    ],
  ),
  // Stock PML for the bench's pml-defaults mode is fed by the SDK's own PML glue, so that the
  // two modes differ only in what the SDK adds on top of PML.
  boundary(
    ["bench/audience/stock-pml.ts", "bench/audience/stock-webrtc-globals.ts"],
    [
      ...packageInternals("sdk", ["sdk/src/engine/core-stream-feeder", "sdk/src/engine/node-runtime"]),
      ...packageInternals("tracker"),
      ...wholeFolder("demo", "shared dev infrastructure belongs in devkit/"),
      ...wholeFolder("tests", "shared dev infrastructure belongs in devkit/"),
    ],
  ),
  // tests/ has no boundary: its unit tests exercise the packages' internals (option validators,
  // the integrity map, the tracker's swarm table) directly, which no public entry exposes.
];

// ---- The config --------------------------------------------------------------------------------
export default tseslint.config(
  {
    // bench/results/ holds committed results (and a chart script run by hand, outside tsconfig);
    // devkit/media/ holds MPEG-TS segments that share the .ts ending.
    ignores: ["**/dist/", "**/node_modules/", ".scratch/", "bench/results/", "devkit/media/", "tests/output/"],
  },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      // Kept on explicitly: an unawaited promise in a server or a test is a lost error.
      // node:test's describe/it/test return promises the runner itself awaits.
      "@typescript-eslint/no-floating-promises": [
        "error",
        {
          allowForKnownSafeCalls: [
            { from: "package", package: "node:test", name: ["describe", "it", "test", "suite"] },
          ],
        },
      ],
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      // tracker/src/server.ts shares one listener per event across every socket: inside it
      // `this` is the socket, so the server is reached as `self`.
      "@typescript-eslint/no-this-alias": ["error", { allowedNames: ["self"] }],
      // `_name` marks a parameter a signature needs but the body does not use.
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // Tests read page state through page.evaluate() and JSON bodies off the wire, both untyped,
    // and check their shape with assertions at run time; typing each read would restate what
    // the assertions already check.
    files: ["tests/**"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-explicit-any": "off",
    },
  },
  {
    // Build scripts, bins and the test runner are plain JavaScript outside tsconfig.
    files: ["**/*.mjs", "**/*.js"],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
  },
  ...boundaries,
);
