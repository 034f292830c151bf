/**
 * `npm run bench -- [options]`: runs the offload bench (Chromium viewers on loopback) or, with
 * `--links <profile>`, the audience bench (virtual and Chromium viewers on emulated links), and
 * writes bench/results/<name>.{json,md,svg}. Ctrl-C (or SIGTERM) stops every browser and server
 * the bench started before the process exits.
 */
import { relative } from "node:path";
import { DEFAULT_AUDIENCE_OPTIONS, runAudienceBench, type AudienceOptions } from "../audience/run.js";
import { DEFAULT_SCENARIO_SETUP, type ScenarioSetup } from "../audience/scenarios.js";
import { loadProfiles } from "../links/profile.js";
import { BenchOptionError, helpText, parseArgs, resolveBenchOptions, type BenchOptions } from "./options.js";
import { ROOT } from "./pages.js";
import { runBench, swarmcastOptions } from "./run.js";

/** The audience bench's options from the shared option table. */
function audienceOptions(input: Partial<BenchOptions>): AudienceOptions {
  const options = resolveBenchOptions(input);
  const profiles = loadProfiles();
  if (!(options.links in profiles)) {
    throw new BenchOptionError(
      "--links",
      `--links: no profile "${options.links}" in bench/links/profiles.json (known: ${Object.keys(profiles).join(", ")}, off)`,
    );
  }
  const scenario: ScenarioSetup | null =
    options.scenario === ""
      ? null
      : {
          ...DEFAULT_SCENARIO_SETUP,
          name: options.scenario,
          cdnFault: options.cdnFault,
          trackerRestartSec: options.trackerRestart === "never" ? null : options.trackerRestart,
          hashes: options.hashes === "on",
          faultAtSec: options.faultAt,
          ...(options.scenario === "viewer-soak" ? { timing: { soakSec: options.soakMinutes * 60 } } : {}),
        };
  return {
    ...DEFAULT_AUDIENCE_OPTIONS,
    scenario,
    viewers: options.viewers,
    browsers: options.browsers ?? 0,
    // A scenario compares swarmcast with the CDN alone unless told otherwise.
    modes: scenario && input.modes === undefined ? ["http-only", "swarmcast"] : options.modes,
    links: options.links,
    ladder: options.ladder === 1 ? 1 : 3,
    rtt: options.rtt === "on",
    joinIntervalSec: input.joinInterval ?? DEFAULT_AUDIENCE_OPTIONS.joinIntervalSec,
    warmupSec: options.warmup,
    durationSec: options.duration,
    sampleIntervalSec: options.sampleInterval,
    // resolveBenchOptions names the loopback result; the audience run names its own.
    name: input.name ?? "",
    outDir: options.out,
    sdkOptions: swarmcastOptions(options),
  };
}

async function runWithLinks(input: Partial<BenchOptions>): Promise<number> {
  const options = audienceOptions(input);
  // Viewers end when their stdin closes and the browsers when their pipe does; the links'
  // namespaces are removed on exit.
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\nbench: ${signal}, stopping; no results written`);
    process.exit(130);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const started = Date.now();
  const { result, files } = await runAudienceBench(options, (line) => console.log(line));
  console.log("");
  for (const m of result.modes) {
    console.log(
      `${m.mode.padEnd(13)} steady offload ${(m.steady.offload * 100).toFixed(1).padStart(6)} %   bound ${(m.steady.bound * 100).toFixed(1)} %   stalls ${m.steady.stalls}   CPU ${(m.steady.machineCpuShare * 100).toFixed(0)} %`,
    );
  }
  if (result.scenario) {
    for (const c of result.scenario.checks) console.log(`${c.ok ? "ok  " : "MISS"} ${c.what}: ${c.measured}`);
    console.log(`scenario ${result.scenario.name}: goal ${result.scenario.met ? "met" : "NOT met"}`);
  }
  console.log(result.valid.counts ? "valid run" : `INVALID run: ${result.valid.reasons.join("; ")}`);
  console.log(
    `\nwrote ${files.map((f) => relative(ROOT, f)).join(", ")} in ${Math.round((Date.now() - started) / 1000)} s`,
  );
  return 0;
}

async function main(): Promise<number> {
  let input;
  try {
    input = parseArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof BenchOptionError) {
      console.error(`bench: ${error.message}`);
      return 2;
    }
    throw error;
  }
  if (input === undefined) {
    console.log(helpText());
    return 0;
  }
  if (input.links !== undefined && input.links !== "off") {
    try {
      return await runWithLinks(input);
    } catch (error) {
      console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
      return error instanceof BenchOptionError ? 2 : 1;
    }
  }

  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      console.error(`\nbench: ${signal}, stopping viewers and servers…`);
      controller.abort();
      // Cleanup is bounded; a stuck browser must not keep the process alive.
      setTimeout(() => process.exit(130), 20_000).unref();
    } else {
      process.exit(130);
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const started = Date.now();
  try {
    const { result, files } = await runBench(input, {
      signal: controller.signal,
      log: (line) => console.log(line),
    });
    console.log("");
    for (const m of result.modes) {
      const offload = m.steady.offload === null ? "–" : `${(m.steady.offload * 100).toFixed(1)} %`;
      console.log(`${m.mode.padEnd(13)} steady offload ${offload.padStart(8)}   bound ${(m.bound * 100).toFixed(1)} %`);
    }
    console.log(
      `\nwrote ${Object.values(files)
        .map((f) => relative(ROOT, f))
        .join(", ")} in ${Math.round((Date.now() - started) / 1000)} s`,
    );
    return 0;
  } catch (error) {
    if (controller.signal.aborted) {
      console.error("bench: stopped; no results written");
      return 130;
    }
    if (error instanceof BenchOptionError) {
      console.error(`bench: ${error.message}`);
      return 2;
    }
    console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
