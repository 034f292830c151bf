/**
 * `npm start [-- options]`: starts the demo and prints the one URL to open. Ctrl-C (SIGINT) or
 * SIGTERM stops the page server, tracker and origin; a second signal exits at once.
 */
import { networkInterfaces } from "node:os";
import { HELP, parseDemoArgs, startDemo, DemoOptionError } from "./index.js";

/** Addresses other devices can use when the page server listens on every interface. */
function networkUrls(port: number): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && a.family === "IPv4" && !a.internal)
    .map((a) => `http://${a!.address}:${port}/`);
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseDemoArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof DemoOptionError) {
      console.error(`swarmcast demo: ${err.message}\nRun \`npm start -- --help\` for the options.`);
      process.exit(2);
    }
    throw err;
  }
  if (parsed.help) {
    console.log(HELP);
    return;
  }

  let demo;
  try {
    demo = await startDemo(parsed.options);
  } catch (err) {
    console.error(`swarmcast demo: ${(err as Error).message}`);
    process.exit(err instanceof DemoOptionError ? 2 : 1);
  }

  const source = demo.config.localStream ? "bundled test stream (local live origin)" : demo.config.src;
  const tracker = demo.config.localTracker ? "local tracker" : demo.config.tracker;
  console.log(`\n  swarmcast demo — open ${demo.url}\n`);
  if (demo.options.host === "0.0.0.0" || demo.options.host === "::") {
    const others = networkUrls(demo.options.port);
    if (others.length > 0) console.log(`  from other devices on your network: ${others.join("  ")}\n`);
  }
  console.log(
    `  stream:  ${source}\n  tracker: ${tracker}\n  Press "Add a viewer" on the page to watch peers share the stream. Ctrl-C stops.\n`,
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      console.error(`swarmcast demo: ${signal} again, exiting now`);
      process.exit(130);
    }
    stopping = true;
    console.log("  stopping…");
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    demo.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(`swarmcast demo: error while stopping: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

await main();
