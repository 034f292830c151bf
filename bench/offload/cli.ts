/**
 * `npm run bench -- [options]`: runs the offload bench and writes bench/results/<name>.{json,md,svg}.
 * Ctrl-C (or SIGTERM) stops every browser and server the bench started before the process exits.
 */
import { relative } from "node:path";
import { BenchOptionError, helpText, parseArgs } from "./options.js";
import { ROOT } from "./pages.js";
import { runBench } from "./run.js";

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
