import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  distribution,
  offloadBound,
  windowFigures,
  type EgressSample,
  type ViewerRecord,
} from "../../bench/offload/metrics.js";
import {
  BenchOptionError,
  DEFAULT_BENCH_OPTIONS,
  helpText,
  OPTION_SPECS,
  parseArgs,
  resolveBenchOptions,
} from "../../bench/offload/options.js";
import { swarmcastOptions } from "../../bench/offload/run.js";
import type { ViewerSnapshot } from "../../bench/pages/viewer.js";

function optionError(fn: () => unknown, option: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof BenchOptionError, String(error));
    assert.equal(error.option, option);
    assert.ok(error.message.includes(option), error.message);
    return true;
  });
}

describe("bench options", () => {
  it("parses every flag form and fills the defaults", () => {
    const parsed = parseArgs([
      "--viewers",
      "8",
      "--duration=120",
      "--modes",
      "swarmcast,http-only",
      "--fault-share",
      "0.25",
      "--fault-window",
      "10,40",
      "--sdk-config",
      '{"core":{"highDemandTimeWindow":6}}',
    ]);
    assert.ok(parsed);
    const options = resolveBenchOptions(parsed);
    assert.equal(options.viewers, 8);
    assert.equal(options.duration, 120);
    assert.deepEqual(options.modes, ["swarmcast", "http-only"]);
    assert.deepEqual(options.faultWindow, [10, 40]);
    assert.equal(options.name, "8-viewers");
    assert.equal(options.warmup, DEFAULT_BENCH_OPTIONS.warmup);
    assert.deepEqual(options.sdkConfig, { core: { highDemandTimeWindow: 6 } });
  });

  it("returns undefined for --help, and the help lists every option with its default", () => {
    assert.equal(parseArgs(["--viewers", "3", "--help"]), undefined);
    const text = helpText();
    for (const spec of OPTION_SPECS) assert.match(text, new RegExp(`${spec.flag} .*\\[default: `));
  });

  it("names the option in every error", () => {
    optionError(() => parseArgs(["--viewers", "0"]), "--viewers");
    optionError(() => parseArgs(["--viewers", "2.5"]), "--viewers");
    optionError(() => parseArgs(["--modes", "http-only,p2p"]), "--modes");
    optionError(() => parseArgs(["--modes", "swarmcast,swarmcast"]), "--modes");
    optionError(() => parseArgs(["--fault-share", "1.5"]), "--fault-share");
    optionError(() => parseArgs(["--fault-window", "40,10"]), "--fault-window");
    optionError(() => parseArgs(["--sdk-config", "[1]"]), "--sdk-config");
    optionError(() => parseArgs(["--sdk-config", "{nope"]), "--sdk-config");
    optionError(() => parseArgs(["--name", "../x"]), "--name");
    optionError(() => parseArgs(["--tracker", "udp"]), "--tracker");
    optionError(() => parseArgs(["--warmup"]), "--warmup");
    optionError(() => parseArgs(["--viewer", "3"]), "--viewer");
    optionError(() => resolveBenchOptions({ faultShare: 0.5 }), "--fault-window");
    optionError(
      () => resolveBenchOptions({ faultShare: 0.5, faultWindow: [200, 300], duration: 100 }),
      "--fault-window",
    );
    optionError(() => resolveBenchOptions({ viewers: -1 }), "--viewers");
    optionError(() => resolveBenchOptions({ liveSync: 6, liveSyncCount: 3 }), "--live-sync");
    optionError(() => resolveBenchOptions({ bogus: 1 } as never), "bogus");
  });

  it("checks the emulated-links options against each other", () => {
    optionError(() => resolveBenchOptions({ viewers: 65 }), "--viewers");
    optionError(() => resolveBenchOptions({ viewers: 8, browsers: 4 }), "--browsers");
    optionError(() => resolveBenchOptions({ ladder: 3 }), "--ladder");
    optionError(() => parseArgs(["--ladder", "2"]), "--ladder");
    optionError(() => parseArgs(["--rtt", "20"]), "--rtt");
    optionError(() => resolveBenchOptions({ rtt: "off" }), "--rtt");
    assert.equal(resolveBenchOptions(parseArgs(["--links", "default", "--rtt", "off"])).rtt, "off");
    optionError(() => parseArgs(["--links", "../x"]), "--links");
    optionError(() => resolveBenchOptions({ links: "default", viewers: 4, browsers: 5 }), "--browsers");
    optionError(() => resolveBenchOptions({ links: "default", churn: 30 }), "--churn");
    const options = resolveBenchOptions(
      parseArgs(["--viewers", "100", "--browsers", "4", "--links", "default", "--ladder", "3"]),
    );
    assert.equal(options.viewers, 100);
    assert.equal(options.browsers, 4);
    assert.equal(options.ladder, 3);
    assert.equal(resolveBenchOptions({ viewers: 8, browsers: 8 }).browsers, 8);
  });

  it("checks the fault scenario options, each error naming its flag", () => {
    optionError(() => resolveBenchOptions({ scenario: "cdn-partial" }), "--scenario");
    optionError(() => parseArgs(["--scenario", "meteor"]), "--scenario");
    optionError(() => parseArgs(["--cdn-fault", "404"]), "--cdn-fault");
    optionError(() => parseArgs(["--tracker-restart", "soon"]), "--tracker-restart");
    optionError(() => parseArgs(["--hashes", "maybe"]), "--hashes");
    optionError(() => resolveBenchOptions({ links: "default", scenario: "starved" }), "--browsers");
    optionError(() => resolveBenchOptions({ links: "default", cdnFault: "reset" }), "--cdn-fault");
    const options = resolveBenchOptions(
      parseArgs(["--links", "default", "--scenario", "tracker-kill", "--tracker-restart", "never"]),
    );
    assert.equal(options.scenario, "tracker-kill");
    assert.equal(options.trackerRestart, "never");
    assert.equal(resolveBenchOptions({ links: "default", scenario: "cdn-partial", cdnFault: "hang" }).cdnFault, "hang");
    optionError(() => parseArgs(["--soak-minutes", "0"]), "--soak-minutes");
    optionError(() => resolveBenchOptions({ links: "default", soakMinutes: 30 }), "--soak-minutes");
    const soak = resolveBenchOptions(
      parseArgs(["--links", "default", "--scenario", "viewer-soak", "--soak-minutes", "30"]),
    );
    assert.equal(soak.soakMinutes, 30);
  });

  it("passes the latency target, the upload cap and --sdk-config to the swarmcast mode", () => {
    const options = resolveBenchOptions({
      liveSyncCount: 4,
      uploadCap: 2000,
      sdkConfig: { hls: { maxBufferLength: 20 }, core: { highDemandTimeWindow: 6 } },
    });
    assert.deepEqual(swarmcastOptions(options), {
      hls: { liveSyncDurationCount: 4, maxBufferLength: 20 },
      core: { highDemandTimeWindow: 6 },
      maxUploadKbps: 2000,
    });
    assert.deepEqual(swarmcastOptions(resolveBenchOptions({})), {});
    assert.deepEqual(swarmcastOptions(resolveBenchOptions({ liveSync: 6.5 })), { hls: { liveSyncDuration: 6.5 } });
    assert.throws(
      () => swarmcastOptions(resolveBenchOptions({ sdkConfig: { swarmId: "x" } })),
      /--sdk-config: "swarmId"/,
    );
  });
});

function snap(at: number, fields: Partial<ViewerSnapshot>): ViewerSnapshot {
  return {
    at,
    startedAt: 0,
    firstFrameAt: 1,
    playing: true,
    stalls: 0,
    stalledMs: 0,
    watchMs: 0,
    httpBytes: 0,
    p2pBytes: 0,
    uploadedBytes: 0,
    peers: 0,
    latency: null,
    hlsFatal: 0,
    hlsNonFatal: 0,
    playerErrors: 0,
    recentErrors: [],
    ...fields,
  };
}

const egress = (at: number, bytes: Record<string, number>): EgressSample => ({
  at,
  byClient: Object.fromEntries(
    Object.entries(bytes).map(([id, b]) => [
      id,
      { segmentBytes: b, playlistBytes: 10, requests: 1, errors: 0, faults: 0, repeatedSegments: 0 },
    ]),
  ),
});

describe("bench figures", () => {
  it("computes offload from egress and consumed deltas over the window, late joiners from zero", () => {
    const viewers: ViewerRecord[] = [
      {
        id: "a",
        slot: 0,
        joinedAt: 0,
        leftAt: null,
        pageErrors: 0,
        samples: [
          snap(100, { httpBytes: 500, watchMs: 1000 }),
          snap(200, { httpBytes: 1500, watchMs: 2000, stalls: 1, stalledMs: 50, latency: 6 }),
        ],
      },
      {
        id: "b",
        slot: 1,
        joinedAt: 150,
        leftAt: null,
        pageErrors: 0,
        samples: [snap(200, { httpBytes: 0, p2pBytes: 1000, watchMs: 1000, latency: 8 })],
      },
      { id: "gone", slot: 2, joinedAt: 0, leftAt: 50, pageErrors: 0, samples: [snap(50, { httpBytes: 999 })] },
    ];
    const samples = [egress(100, { a: 500, gone: 999 }), egress(200, { a: 1500, b: 0, gone: 999 })];
    const w = windowFigures(viewers, samples, 100, 200);
    assert.equal(w.viewers, 2);
    assert.equal(w.egressSegmentBytes, 1000);
    assert.equal(w.consumedBytes, 2000);
    assert.equal(w.offload, 0.5);
    assert.equal(w.viewerReportedOffload, 0.5);
    assert.deepEqual(w.p2pShareByViewer, { a: 0, b: 1 });
    assert.equal(w.stalls, 1);
    assert.equal(w.rebufferShare, 50 / 2000);
    assert.deepEqual(w.latencySeconds, { n: 2, median: 7, p95: 7.9, max: 8 });
    assert.equal(offloadBound(8), 7 / 8);
    assert.equal(offloadBound(1), 0);
  });

  it("reports no offload without consumed bytes", () => {
    const w = windowFigures([], [], 0, 1);
    assert.equal(w.offload, null);
    assert.equal(w.rebufferShare, null);
    assert.deepEqual(distribution([]), { n: 0, median: null, p95: null, max: null });
  });
});
