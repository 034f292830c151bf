/**
 * Fault scenarios of the audience bench (`--scenario NAME`): what each injects, at which point
 * of a mode's steady window, which viewers it hits, and the goal its outcome is judged against.
 * The run (run.ts) calls `inject` once per mode; evaluation (evaluateScenario) reads the modes'
 * results side by side.
 */
import type { Origin, FaultRule } from "../../devkit/origin/index";
import type { TrackerChild } from "./tracker-child";

export const SCENARIO_NAMES = [
  "cdn-partial",
  "cdn-outage",
  "cdn-slow",
  "tracker-kill",
  "churn-storm",
  "lying-peer",
  "starved",
  "viewer-soak",
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export const CDN_FAULTS = ["503", "reset", "hang"] as const;
export type CdnFault = (typeof CDN_FAULTS)[number];

export interface ScenarioSetup {
  name: ScenarioName;
  /** cdn-partial: how the failing segment requests fail. */
  cdnFault: CdnFault;
  /** tracker-kill: seconds until the killed tracker starts again on the same address; null = never. */
  trackerRestartSec: number | null;
  /** lying-peer: the stream carries SHA-256 tags and viewers require them (else the spot check guards). */
  hashes: boolean;
  /** Seconds into the steady window at which the fault starts. */
  faultAtSec: number;
  /** Shorter (or longer) timings than SCENARIO_TIMING's, for a smoke run. */
  timing?: Partial<ScenarioTiming>;
}

export const DEFAULT_SCENARIO_SETUP: Omit<ScenarioSetup, "name"> = {
  cdnFault: "503",
  trackerRestartSec: 10,
  hashes: true,
  faultAtSec: 20,
};

/** Every figure of a scenario's timing, in one place. */
export const SCENARIO_TIMING = {
  /** cdn-partial: how long half the audience's segment requests fail. */
  partialOutageSec: 20,
  /** cdn-partial, hang variant: how long each hung request is held before it is answered. */
  hangMs: 10_000,
  /** cdn-outage: whole-audience outage, shorter than the buffer. */
  wholeOutageSec: 6,
  /** cdn-slow: segment bodies last this many times their media duration. */
  slowPaceFactor: 1.5,
  /** cdn-slow: how long the CDN stays slow. */
  slowSec: 60,
  /** tracker-kill: after the restart (or the kill, for good), a viewer joins this much later. */
  lateJoinAfterSec: 5,
  /** tracker-kill: announce rate of the restarted tracker is read over this long. */
  announceWatchSec: 30,
  /** churn-storm: seconds between the leaves and the joins. */
  churnGapSec: 30,
  /** lying-peer: steady seconds measured after the fault's mark (the liars lie throughout). */
  lyingSec: 60,
  /** starved: CDP CPU throttling rate of the starved Chromium viewer. */
  starveRate: 4,
  /** starved: how long it stays throttled. */
  starveSec: 60,
  /** viewer-soak: how long the viewers play undisturbed. */
  soakSec: 7200,
  /** viewer-soak: one point of each viewer's resource curve per this many seconds. */
  soakBucketSec: 60,
  /** Seconds of the steady window kept after a fault ends, for recovery. */
  recoverySec: 40,
  /** Offload counts as recovered within this many points of its pre-fault level. */
  recoveryPoints: 0.05,
};

export type ScenarioTiming = typeof SCENARIO_TIMING;

/** The scenario's timing: SCENARIO_TIMING with the setup's overrides. */
export function timingOf(setup: ScenarioSetup): ScenarioTiming {
  return { ...SCENARIO_TIMING, ...setup.timing };
}

/** Seconds of steady window a scenario needs: the fault's start, its length and the recovery after it. */
export function scenarioSteadySec(setup: ScenarioSetup): number {
  const t = timingOf(setup);
  // No fault and nothing to recover from: the soak is the window.
  if (setup.name === "viewer-soak") return t.soakSec;
  const length: Record<ScenarioName, number> = {
    "cdn-partial": t.partialOutageSec + (setup.cdnFault === "hang" ? t.hangMs / 1000 : 0),
    "cdn-outage": t.wholeOutageSec,
    "cdn-slow": t.slowSec,
    "tracker-kill": (setup.trackerRestartSec ?? 0) + t.lateJoinAfterSec + t.announceWatchSec,
    "churn-storm": t.churnGapSec,
    "lying-peer": t.lyingSec,
    starved: t.starveSec,
    "viewer-soak": t.soakSec,
  };
  return setup.faultAtSec + length[setup.name] + t.recoverySec;
}

/** The goal of each scenario, as the report states it. */
export const SCENARIO_GOALS: Record<ScenarioName, string> = {
  "cdn-partial":
    "for half of the viewers every segment request fails for 20 s (playlists keep working): swarmcast viewers whose CDN fails do not stall (the others bridge the outage) where http-only viewers do; offload back within 5 points within 20 s after it ends",
  "cdn-outage":
    "every viewer's segment requests fail for 6 s (shorter than the buffer): no stall in either mode, no fatal error, no segment fetched twice from the CDN afterwards by the same viewer",
  "cdn-slow":
    "segment responses paced to 1.5x real time for everybody: stalls no worse than http-only, offload while slow not lower than before",
  "tracker-kill":
    "tracker SIGKILLed (and started again on the same address, or gone for good): playback never stops, existing peer connections keep delivering, a viewer joining after the restart finds peers, the announce rate the restarted tracker sees stays <= N/5 per second; gone for good: offload held, no error storm",
  "churn-storm":
    "half the viewers leave at once, 30 s later as many join at once: no stall among those who stayed, offload back within 5 points within 30 s",
  "lying-peer":
    "one viewer in eight serves corrupted bytes for every segment: zero corrupted bytes reach any other viewer's media, the liar is dropped by all within a few segments, offload loss stated",
  starved:
    "one Chromium viewer CPU-throttled 4x by CDP in an otherwise healthy swarm: swarmcast stalled time <= max(1.5x http-only's, http-only's + 0.5 % of watch time), CDN bytes not above http-only's, the throttled viewer does not slow the others",
  "viewer-soak":
    "viewers play undisturbed for the soak (2 hours unless --soak-minutes says otherwise): page heap, segment-store size, peer and timer counts stay bounded (last quarter's high within 25 % or a small slack of the first quarter's), no stall that http-only does not have",
};

/** Which viewer slots a scenario's fault hits (cdn-partial: every other slot; liars: one in eight). */
export function affectedSlots(setup: ScenarioSetup, viewers: number, chromiumSlots: ReadonlySet<number>): Set<number> {
  const all = Array.from({ length: viewers }, (_, i) => i);
  switch (setup.name) {
    case "cdn-partial":
      return new Set(all.filter((i) => i % 2 === 1));
    case "cdn-outage":
    case "cdn-slow":
    case "tracker-kill":
    case "viewer-soak":
      return new Set(all);
    case "churn-storm":
      // The leavers: every other slot, Chromium ones included.
      return new Set(all.filter((i) => i % 2 === 1));
    case "lying-peer": {
      // One in eight, virtual viewers only (the liar is a segment store the virtual viewer installs).
      const virtual = all.filter((i) => !chromiumSlots.has(i));
      const count = Math.max(1, Math.floor(viewers / 8));
      return new Set(virtual.filter((_, k) => k % Math.ceil(virtual.length / count) === 0).slice(0, count));
    }
    case "starved": {
      const first = [...chromiumSlots][0];
      if (first === undefined) throw new Error("--scenario starved: needs at least one Chromium viewer (--browsers)");
      return new Set([first]);
    }
  }
}

/** What a mode's run hands a scenario to inject its fault with. */
export interface FaultContext {
  origin: Origin;
  tracker: TrackerChild | undefined;
  /** Client ids of the viewers the fault hits. */
  affectedIds: string[];
  sleep(ms: number): Promise<void>;
  log(line: string): void;
  /** Stops the viewers of these slots (churn-storm). */
  leave(slots: number[]): Promise<void>;
  /** Starts a new viewer in each slot (churn-storm, the late joiner); returns their ids. */
  join(slots: number[], label: string): Promise<string[]>;
  /** CDP-throttles the Chromium viewer of this slot (starved). */
  throttle(slot: number, rate: number): Promise<void>;
  affected: number[];
}

export interface FaultRecord {
  /** Epoch ms the fault started and ended (for faults that last the whole run: the steady window). */
  startAt: number;
  endAt: number;
  affectedIds: string[];
  /** Viewers that joined because of the scenario (churn-storm's newcomers, tracker-kill's late joiner). */
  joinedIds: string[];
  /** tracker-kill: announces per second the restarted tracker saw, second by second. */
  announceRates?: number[];
  notes: string[];
}

function cdnRules(setup: ScenarioSetup, clients: string[] | undefined, from: number, until: number): FaultRule[] {
  const base = { from, until, ...(clients ? { clients } : {}) };
  const t = timingOf(setup);
  if (setup.name === "cdn-slow") return [{ ...base, paceFactor: t.slowPaceFactor }];
  if (setup.name === "cdn-partial" && setup.cdnFault === "reset") return [{ ...base, reset: true }];
  if (setup.name === "cdn-partial" && setup.cdnFault === "hang") return [{ ...base, delayMs: t.hangMs }];
  return [{ ...base, status: 503 }];
}

/** Injects the scenario's fault now; resolves when it is over (or, for a lasting one, at once). */
export async function injectFault(setup: ScenarioSetup, ctx: FaultContext): Promise<FaultRecord> {
  const t = timingOf(setup);
  const startAt = Date.now();
  const record: FaultRecord = { startAt, endAt: startAt, affectedIds: ctx.affectedIds, joinedIds: [], notes: [] };
  const cdnFault = async (seconds: number, clients: string[] | undefined) => {
    const until = startAt + seconds * 1000;
    ctx.origin.setFaults(cdnRules(setup, clients, startAt, until));
    await ctx.sleep(until - Date.now());
    // A hung request answers after its delay: the fault lasts until the last of them did.
    if (setup.name === "cdn-partial" && setup.cdnFault === "hang") await ctx.sleep(t.hangMs);
    ctx.origin.setFaults([]);
    record.endAt = Date.now();
  };
  switch (setup.name) {
    case "cdn-partial":
      await cdnFault(t.partialOutageSec, ctx.affectedIds);
      break;
    case "cdn-outage":
      await cdnFault(t.wholeOutageSec, undefined);
      break;
    case "cdn-slow":
      await cdnFault(t.slowSec, undefined);
      break;
    case "tracker-kill":
      await killTracker(setup, ctx, record);
      break;
    case "churn-storm": {
      await ctx.leave(ctx.affected);
      ctx.log(`churn storm: ${ctx.affected.length} viewers left at once`);
      await ctx.sleep(t.churnGapSec * 1000);
      record.joinedIds = await ctx.join(ctx.affected, "n");
      record.endAt = Date.now();
      ctx.log(`churn storm: ${record.joinedIds.length} viewers joined at once`);
      break;
    }
    case "lying-peer":
      // The liars lie from their first segment: the fault is the whole window, marked from here.
      record.notes.push("liars serve corrupted bytes from their first segment; the window marks the one measured");
      record.endAt = startAt + t.lyingSec * 1000;
      break;
    case "viewer-soak":
      record.notes.push("no fault: the viewers play undisturbed; the steady window is the soak");
      break;
    case "starved":
      await ctx.throttle(ctx.affected[0], t.starveRate);
      ctx.log(`starved: ${ctx.affectedIds[0]} CPU-throttled ${t.starveRate}x`);
      await ctx.sleep(t.starveSec * 1000);
      await ctx.throttle(ctx.affected[0], 1).catch(() => undefined);
      record.endAt = Date.now();
      break;
  }
  return record;
}

async function killTracker(setup: ScenarioSetup, ctx: FaultContext, record: FaultRecord): Promise<void> {
  const t = timingOf(setup);
  const tracker = ctx.tracker;
  if (!tracker) throw new Error("tracker-kill: the tracker must run as a child process");
  await tracker.kill();
  ctx.log(`tracker SIGKILLed${setup.trackerRestartSec === null ? " for good" : ""}`);
  if (setup.trackerRestartSec !== null) {
    await ctx.sleep(setup.trackerRestartSec * 1000);
    await tracker.start();
    record.endAt = Date.now();
    ctx.log("tracker started again on the same address");
    const rates: number[] = [];
    let previous = (await tracker.announces()) ?? 0;
    let joined = false;
    for (let s = 0; s < t.announceWatchSec; s++) {
      await ctx.sleep(1000);
      const now = (await tracker.announces()) ?? previous;
      rates.push(now - previous);
      previous = now;
      if (!joined && s + 1 >= t.lateJoinAfterSec) {
        joined = true;
        // A viewer arriving after the restart: it must find peers through the new tracker.
        record.joinedIds = await ctx.join([ctx.affected[0]], "late");
      }
    }
    record.announceRates = rates;
  } else {
    record.endAt = Date.now();
    await ctx.sleep(t.lateJoinAfterSec * 1000);
    record.joinedIds = await ctx.join([ctx.affected[0]], "late");
  }
}
