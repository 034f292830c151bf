/**
 * A scenario's outcome, measured: per mode the stalls of the viewers the fault hit and of the
 * others, offload before, during and after the fault and how long it took to come back, the
 * failures the origin answered and those the viewers counted; then the goal, met or not and why.
 */
import type { AudienceModeResult, TimelinePoint, ViewerGroup } from "./run";
import { SCENARIO_GOALS, timingOf, type ScenarioSetup } from "./scenarios";
import { judgeGrowth, SOAK_GROWTH_ALLOWANCE, type JudgedFigure, type ViewerSoak } from "./soak";

type ModeViewer = AudienceModeResult["viewers"][number];

export interface GroupStalls {
  viewers: number;
  stalls: number;
  stalledSec: number;
  watchSec: number;
  /**
   * The group's uplinks added up, Mbit/s (null without emulated links): in a partial outage the
   * viewers whose CDN works serve the others, so their uplink decides how much of it is bridged.
   */
  uplinkMbps: number | null;
}

export interface ModeOutcome {
  mode: string;
  faultStartSec: number;
  faultEndSec: number;
  stalls: Record<ViewerGroup, GroupStalls>;
  /** Mean P2P share of the steady window's points before the fault, during it, and from its end on. */
  offloadBefore: number | null;
  offloadDuring: number | null;
  offloadAfter: number | null;
  /** Seconds after the fault's end until the P2P share (6 s mean) was back within 5 points; null: never. */
  recoverySec: number | null;
  /** The origin's counts over the run: requests a fault hit, error answers, segments sent twice to one viewer. */
  originFaults: number;
  originErrors: number;
  repeatedSegments: number;
  /** What the viewers counted, summed. */
  errorsByKind: Record<string, number>;
  loadFailures: number;
  unhandledRejections: number;
  consoleErrors: number;
  trackerErrors: number;
  trackerReconnects: number;
  /** What the SDK told the site about the CDN (`stats().cdn`), summed over the viewers the fault hit. */
  cdnSeen: { failures: number; outageSec: number; peerSegmentsDuringOutage: number; viewersReporting: number };
  /** lying-peer: media the honest viewers consumed, checked against the origin. */
  media?: { checked: number; mismatched: number; mismatchedBytes: number; unchecked: number };
  /** lying-peer: peers blamed for bad bytes, how many failures each honest viewer took before the drop, and who still holds one. */
  liars?: {
    blamed: string[];
    maxFailuresPerViewer: number;
    /** Viewers still connected to a peer they caught lying. */
    stillConnected: string[];
    /** Viewers connected to a blamed peer that never served them a bad segment. */
    connectedUncaught: string[];
    corruptedServed: number;
  };
  /** tracker-kill: announces per second the restarted tracker saw (highest 5 s mean, mean), the late joiner's peers at the end. */
  announceRateMax?: number;
  announceRateMean?: number;
  lateJoinerPeers?: number[];
  /** viewer-soak: every viewer's resource curve and how each judged figure grew. */
  soak?: ViewerSoak[];
}

export interface ScenarioOutcome {
  name: string;
  setup: ScenarioSetup;
  goal: string;
  modes: ModeOutcome[];
  met: boolean | null;
  /** Each check of the goal, with what was measured. */
  checks: Array<{ what: string; ok: boolean; measured: string }>;
}

const mean = (values: number[]) => (values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length);

function shareBetween(points: TimelinePoint[], from: number, to: number): number | null {
  return mean(points.filter((p) => p.t > from && p.t <= to && p.p2pShare !== null).map((p) => p.p2pShare as number));
}

/** First second after `from` at which a 3-point mean of the P2P share is within `points` of `baseline`. */
function recoveryAfter(
  timeline: TimelinePoint[],
  from: number,
  to: number,
  baseline: number | null,
  points: number,
): number | null {
  if (baseline === null) return null;
  const after = timeline.filter((p) => p.t >= from && p.t <= to && p.p2pShare !== null);
  for (let i = 0; i + 2 < after.length; i++) {
    const window = after.slice(i, i + 3).map((p) => p.p2pShare as number);
    if ((mean(window) ?? 0) >= baseline - points) return Math.max(0, after[i].t - from);
  }
  return null;
}

function groupStalls(viewers: ModeViewer[], group: ViewerGroup): GroupStalls {
  const members = viewers.filter((v) => v.group === group);
  return {
    viewers: members.length,
    stalls: members.reduce((a, v) => a + v.stalls, 0),
    stalledSec: members.reduce((a, v) => a + v.stalledMs, 0) / 1000,
    watchSec: members.reduce((a, v) => a + v.watchMs, 0) / 1000,
    uplinkMbps: members.some((v) => v.uplinkMbps === null)
      ? null
      : members.reduce((a, v) => a + (v.uplinkMbps ?? 0), 0),
  };
}

function cdnSeenBy(viewers: ModeViewer[]): ModeOutcome["cdnSeen"] {
  const reporting = viewers.flatMap((v) => (v.faults?.cdn ? [v.faults.cdn] : []));
  return {
    failures: reporting.reduce((a, c) => a + c.failures, 0),
    outageSec: reporting.reduce((a, c) => a + c.outageMs, 0) / 1000,
    peerSegmentsDuringOutage: reporting.reduce((a, c) => a + c.peerSegmentsDuringOutage, 0),
    viewersReporting: reporting.length,
  };
}

function modeOutcome(setup: ScenarioSetup, m: AudienceModeResult): ModeOutcome {
  const fault = m.fault;
  const start = fault?.startSec ?? m.steadyFromSec;
  const end = fault?.endSec ?? m.steadyToSec;
  const steady = m.timeline.filter((p) => p.phase === "steady");
  const offloadBefore = shareBetween(steady, m.steadyFromSec, start);
  const sum = (f: (v: ModeViewer) => number) => m.viewers.reduce((a, v) => a + f(v), 0);
  const errorsByKind: Record<string, number> = {};
  for (const v of m.viewers)
    for (const [kind, n] of Object.entries(v.faults?.errorsByKind ?? {}))
      errorsByKind[kind] = (errorsByKind[kind] ?? 0) + n;
  const outcome: ModeOutcome = {
    mode: m.mode,
    faultStartSec: start,
    faultEndSec: end,
    stalls: {
      affected: groupStalls(m.viewers, "affected"),
      others: groupStalls(m.viewers, "others"),
      joined: groupStalls(m.viewers, "joined"),
    },
    offloadBefore,
    offloadDuring: shareBetween(steady, start, Math.max(end, start + 2)),
    offloadAfter: shareBetween(steady, end, m.steadyToSec),
    recoverySec: recoveryAfter(steady, end, m.steadyToSec, offloadBefore, timingOf(setup).recoveryPoints),
    originFaults: sum((v) => v.originFaults),
    originErrors: sum((v) => v.originErrors),
    repeatedSegments: sum((v) => v.repeatedSegments),
    errorsByKind,
    loadFailures: sum((v) => v.faults?.loadFailures ?? 0),
    unhandledRejections: sum((v) => v.faults?.unhandledRejections ?? 0),
    consoleErrors: sum((v) => v.faults?.consoleErrors ?? 0),
    trackerErrors: sum((v) => v.faults?.tracker?.errors ?? 0),
    trackerReconnects: sum((v) => v.faults?.tracker?.reconnects ?? 0),
    cdnSeen: cdnSeenBy(m.viewers.filter((v) => v.group === "affected")),
  };
  if (setup.name === "lying-peer") {
    const honest = m.viewers.filter((v) => v.group !== "affected");
    const media = { checked: 0, mismatched: 0, mismatchedBytes: 0, unchecked: 0 };
    for (const v of honest)
      for (const key of Object.keys(media) as Array<keyof typeof media>) media[key] += v.faults?.media?.[key] ?? 0;
    outcome.media = media;
    const blamed = [...new Set(honest.flatMap((v) => Object.keys(v.faults?.integrity?.failuresByPeer ?? {})))];
    outcome.liars = {
      blamed,
      maxFailuresPerViewer: Math.max(
        0,
        ...honest.flatMap((v) => Object.values(v.faults?.integrity?.failuresByPeer ?? {})),
      ),
      // A viewer drops a liar when it catches it; one the liar never served has nothing to drop it for.
      stillConnected: honest
        .filter((v) => (v.faults?.peerIds ?? []).some((id) => (v.faults?.integrity?.failuresByPeer[id] ?? 0) > 0))
        .map((v) => v.id),
      connectedUncaught: honest
        .filter((v) =>
          (v.faults?.peerIds ?? []).some(
            (id) => blamed.includes(id) && !(id in (v.faults?.integrity?.failuresByPeer ?? {})),
          ),
        )
        .map((v) => v.id),
      corruptedServed: m.viewers.reduce((a, v) => a + (v.faults?.corruptedServed ?? 0), 0),
    };
  }
  if (setup.name === "tracker-kill") {
    const rates = fault?.announceRates ?? [];
    if (rates.length > 0) {
      // Per second counts are 0 or 1 in a small swarm: the rate is read over 5 s windows.
      const windows = rates.slice(0, Math.max(1, rates.length - 4)).map((_, i) => mean(rates.slice(i, i + 5)) ?? 0);
      outcome.announceRateMax = Math.max(...windows);
      outcome.announceRateMean = mean(rates) ?? 0;
    }
    outcome.lateJoinerPeers = m.viewers.filter((v) => v.group === "joined").map((v) => v.peers);
  }
  if (setup.name === "viewer-soak")
    outcome.soak = m.viewers.map((v) => {
      const points = v.resources ?? [];
      return { id: v.id, kind: v.kind, points, growth: judgeGrowth(points) };
    });
  return outcome;
}

const pct = (x: number | null) => (x === null ? "–" : `${(x * 100).toFixed(1)} %`);

/** Judges the goal from the modes' outcomes; `met` is null when a mode the goal needs is missing. */
export function evaluateScenario(setup: ScenarioSetup, modes: AudienceModeResult[], viewers: number): ScenarioOutcome {
  const outcomes = modes.map((m) => modeOutcome(setup, m));
  const sc = outcomes.find((o) => o.mode === "swarmcast");
  const http = outcomes.find((o) => o.mode === "http-only");
  const checks: ScenarioOutcome["checks"] = [];
  const check = (what: string, ok: boolean, measured: string) => checks.push({ what, ok, measured });
  const faultHappened = (o: ModeOutcome) =>
    check(
      `${o.mode}: the fault happened (origin answered faults)`,
      o.originFaults > 0,
      `${o.originFaults} requests hit`,
    );
  const stallsOf = (o: ModeOutcome, g: ViewerGroup) =>
    `${o.stalls[g].stalls} stalls, ${o.stalls[g].stalledSec.toFixed(1)} s`;
  if (sc) {
    switch (setup.name) {
      case "cdn-partial":
        faultHappened(sc);
        check(
          "swarmcast viewers whose CDN failed did not stall",
          sc.stalls.affected.stalls === 0,
          stallsOf(sc, "affected"),
        );
        check(
          "swarmcast offload back within 5 points within 20 s after the outage",
          sc.recoverySec !== null && sc.recoverySec <= 20,
          sc.recoverySec === null ? "not back by the window's end" : `${sc.recoverySec.toFixed(0)} s`,
        );
        break;
      case "cdn-outage":
        for (const o of outcomes) {
          faultHappened(o);
          const all = o.stalls.affected.stalls + o.stalls.others.stalls;
          check(`${o.mode}: no stall`, all === 0, `${all} stalls`);
          check(
            `${o.mode}: no segment fetched twice from the CDN by one viewer`,
            o.repeatedSegments === 0,
            `${o.repeatedSegments}`,
          );
          check(`${o.mode}: no unhandled rejection`, o.unhandledRejections === 0, `${o.unhandledRejections}`);
        }
        break;
      case "cdn-slow":
        faultHappened(sc);
        if (http)
          check(
            "swarmcast stalls no worse than http-only",
            sc.stalls.affected.stalledSec <= http.stalls.affected.stalledSec,
            `${stallsOf(sc, "affected")} vs ${stallsOf(http, "affected")}`,
          );
        check(
          "offload while slow not lower than before (within 5 points)",
          sc.offloadDuring !== null &&
            sc.offloadBefore !== null &&
            sc.offloadDuring >= sc.offloadBefore - timingOf(setup).recoveryPoints,
          `${pct(sc.offloadDuring)} vs ${pct(sc.offloadBefore)}`,
        );
        break;
      case "tracker-kill": {
        const all = sc.stalls.affected.stalls;
        check("swarmcast playback never stopped", all === 0, stallsOf(sc, "affected"));
        check(
          "existing peer connections kept delivering while the tracker was down (P2P share above 0 and within 10 points)",
          sc.offloadDuring !== null &&
            sc.offloadBefore !== null &&
            sc.offloadDuring > 0 &&
            sc.offloadDuring >= sc.offloadBefore - 0.1,
          `${pct(sc.offloadDuring)} vs ${pct(sc.offloadBefore)} before`,
        );
        check(
          "a viewer joining after the restart found peers",
          (sc.lateJoinerPeers ?? []).some((p) => p > 0),
          `peers at the end: ${(sc.lateJoinerPeers ?? []).join(", ") || "no late joiner"}`,
        );
        if (setup.trackerRestartSec !== null)
          check(
            `announce rate the restarted tracker saw <= N/5 = ${(viewers / 5).toFixed(1)} per second`,
            sc.announceRateMax !== undefined && sc.announceRateMax <= viewers / 5,
            `highest 5 s mean ${sc.announceRateMax?.toFixed(2) ?? "–"}/s, mean ${sc.announceRateMean?.toFixed(2) ?? "–"}/s`,
          );
        else
          check(
            "no error storm (tracker errors per viewer <= 1 per 10 s down)",
            sc.trackerErrors <= viewers * Math.max(1, (sc.faultEndSec - sc.faultStartSec + 40) / 10),
            `${sc.trackerErrors} tracker errors, ${sc.consoleErrors} console errors`,
          );
        break;
      }
      case "churn-storm":
        check("no stall among those who stayed", sc.stalls.others.stalls === 0, stallsOf(sc, "others"));
        check(
          "offload back within 5 points within 30 s after the joins",
          sc.recoverySec !== null && sc.recoverySec <= 30,
          sc.recoverySec === null ? "not back by the window's end" : `${sc.recoverySec.toFixed(0)} s`,
        );
        break;
      case "lying-peer":
        check(
          "the liars served corrupted bytes",
          (sc.liars?.corruptedServed ?? 0) > 0,
          `${sc.liars?.corruptedServed ?? 0} corrupted copies served`,
        );
        check(
          "zero corrupted bytes reached any honest viewer's media",
          (sc.media?.mismatched ?? 1) === 0 && (sc.media?.checked ?? 0) > 0,
          `${sc.media?.mismatched ?? "–"} of ${sc.media?.checked ?? 0} consumed segments mismatched (${sc.media?.mismatchedBytes ?? 0} bytes), ${sc.media?.unchecked ?? 0} unchecked`,
        );
        if (setup.hashes)
          check(
            "the liar was dropped by every viewer it served bad bytes (none still connected to it at the end)",
            (sc.liars?.stillConnected.length ?? 1) === 0,
            `blamed ${sc.liars?.blamed.length ?? 0} peer(s), at most ${sc.liars?.maxFailuresPerViewer ?? 0} failures per viewer; still connected: ${sc.liars?.stillConnected.join(", ") || "none"}; connected to it, never served bad bytes: ${sc.liars?.connectedUncaught.length ?? 0}`,
          );
        break;
      case "viewer-soak": {
        const all = (o: ModeOutcome) => o.stalls.affected.stalls;
        check(
          http
            ? "swarmcast stalled no more often than http-only"
            : "swarmcast never stalled (http-only not run alongside)",
          all(sc) <= (http ? all(http) : 0),
          `${stallsOf(sc, "affected")}${http ? ` vs ${stallsOf(http, "affected")}` : ""}`,
        );
        for (const figure of Object.keys(SOAK_GROWTH_ALLOWANCE) as JudgedFigure[]) {
          const judged = (sc.soak ?? []).flatMap((v) => {
            const g = v.growth[figure];
            return g ? [{ id: v.id, ...g }] : [];
          });
          const worst = judged.sort((a, b) => b.lastHigh - b.firstHigh - (a.lastHigh - a.firstHigh))[0];
          const { share, slack } = SOAK_GROWTH_ALLOWANCE[figure];
          check(
            `swarmcast: every viewer's ${figure} bounded (last quarter's high <= first quarter's + max(${share * 100} %, ${slack}))`,
            judged.length > 0 && judged.every((g) => g.bounded),
            worst
              ? `${judged.filter((g) => g.bounded).length} of ${judged.length} bounded; most growth ${worst.id}: ${worst.firstHigh} -> ${worst.lastHigh}`
              : "no viewer reported it",
          );
        }
        check("swarmcast: no unhandled rejection", sc.unhandledRejections === 0, `${sc.unhandledRejections}`);
        break;
      }
      case "starved":
        if (http) {
          const stalled = (o: ModeOutcome) => o.stalls.affected.stalledSec + o.stalls.others.stalledSec;
          const watch = http.stalls.affected.watchSec + http.stalls.others.watchSec;
          const bound = Math.max(1.5 * stalled(http), stalled(http) + 0.005 * watch);
          check(
            "swarmcast stalled time <= max(1.5x http-only's, http-only's + 0.5 % of watch time)",
            stalled(sc) <= bound,
            `${stalled(sc).toFixed(1)} s vs bound ${bound.toFixed(1)} s`,
          );
          check(
            "the throttled viewer did not slow the others (their stalled time no worse than http-only's)",
            sc.stalls.others.stalledSec <= Math.max(http.stalls.others.stalledSec, 0.005 * http.stalls.others.watchSec),
            `${stallsOf(sc, "others")} vs ${stallsOf(http, "others")}`,
          );
        }
        break;
    }
  }
  if (setup.name === "cdn-partial" && http) {
    faultHappened(http);
    // Not a goal of ours: the contrast that shows what the peers bridged.
    checks.push({
      what: "(contrast) http-only viewers whose CDN failed stalled",
      ok: true,
      measured: stallsOf(http, "affected"),
    });
  }
  return {
    name: setup.name,
    setup,
    goal: SCENARIO_GOALS[setup.name],
    modes: outcomes,
    met: sc && checks.length > 0 ? checks.every((c) => c.ok) : null,
    checks,
  };
}
