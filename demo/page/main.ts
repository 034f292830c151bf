/**
 * The demo page. Data flow: /config.json + query → settings → Swarmcast.attach() → every
 * second a `stats` event → cards, chart (summed with added viewers' figures), peer table.
 * In compact mode (an added viewer) it shows the player and one line, and reports upward.
 */
import type { SwarmcastPlayer, SwarmcastStats } from "../../sdk/src/index";
import { ThroughputChart } from "./chart.js";
import { formatBytes, formatPercent, formatRate, kilobytesPerSecond } from "./format.js";
import { PeerTable } from "./peers.js";
import { describeError, ProblemLog } from "./problems.js";
import { resolvePageSettings, viewerUrl, type DemoConfig, type PageSettings } from "./settings.js";
import { ViewerTotals } from "./totals.js";
import { probeTracker, trackerView, type ProbeState } from "./tracker-state.js";
import { reportSizeToParent, reportToParent, ViewerStrip } from "./viewers.js";

const SWARM_POLL_MS = 1000;
const PROBE_RETRY_MS = 10_000;

function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el;
}

function setText(id: string, text: string): void {
  const el = $(id);
  if (el.textContent !== text) el.textContent = text;
}

const problems = new ProblemLog();
/** When the video last started playing: a fatal problem older than this is over. */
let playingSince = 0;

function renderProblems(): void {
  const list = $("problems");
  const items = problems.list().map((p) => {
    const li = document.createElement("li");
    li.className = p.severity;
    const time = document.createElement("time");
    time.textContent = new Date(p.lastAt).toLocaleTimeString();
    const text = document.createElement("span");
    text.textContent = p.count > 1 ? `${p.text} (×${p.count})` : p.text;
    li.append(time, text);
    return li;
  });
  list.replaceChildren(...items);
  $("no-problems").hidden = items.length > 0;
  const fatal = problems.list().find((p) => p.severity === "error" && p.lastAt >= playingSince);
  if (document.body.classList.contains("compact")) setText("compact-problem", fatal ? fatal.text : "");
  const overlay = $("player-error");
  overlay.hidden = !fatal;
  if (fatal) setText("player-error", fatal.text);
}

function report(text: string, severity: "info" | "warning" | "error" = "error"): void {
  problems.add({ key: `page:${text}`, text, severity }, Date.now());
  renderProblems();
}

async function loadConfig(): Promise<DemoConfig> {
  const res = await fetch("/config.json", { cache: "no-store" });
  if (!res.ok) throw new Error(`the demo server answered ${res.status} for /config.json`);
  return (await res.json()) as DemoConfig;
}

function attachPlayer(settings: PageSettings): SwarmcastPlayer | null {
  if (typeof Swarmcast === "undefined") {
    report("The player script (/swarmcast.js) did not load. Run `npm run build`, then reload.");
    return null;
  }
  const video = $("video") as HTMLVideoElement;
  try {
    return Swarmcast.attach(video, {
      src: settings.src,
      trackers: [settings.tracker],
      ...(settings.swarmId !== undefined ? { swarmId: settings.swarmId } : {}),
      ...(settings.iceServers !== undefined ? { iceServers: settings.iceServers } : {}),
      // Audience-wide offload: each viewer reports its byte counts to the tracker every 30 s.
      ...(settings.localTracker ? { statsBeacon: true } : {}),
    });
  } catch (err) {
    report(`The player could not start: ${(err as Error).message}`);
    return null;
  }
}

function compactLine(s: SwarmcastStats): string {
  const peers = s.peers.length;
  return `offload ${formatPercent(s.offloadRatio)} · ${peers} peer${peers === 1 ? "" : "s"} · CDN ${formatRate(s.httpDownloadRate)} · peers ${formatRate(s.p2pDownloadRate)}`;
}

async function main(): Promise<void> {
  const query = new URLSearchParams(location.search);
  document.body.classList.toggle("compact", query.get("compact") === "1");
  let config: DemoConfig;
  try {
    config = await loadConfig();
  } catch (err) {
    report(`Cannot read the demo settings: ${(err as Error).message}. Is \`npm start\` still running?`);
    return;
  }
  const settings = resolvePageSettings(config, query, location);
  for (const warning of settings.warnings) report(warning, "warning");
  setText("src", settings.src);
  setText("tracker-url", settings.tracker);
  setText("swarm-id", settings.swarmId ?? "(derived from the playlist URL)");
  setText("version", config.version);

  const player = attachPlayer(settings);
  const context = { src: settings.src, tracker: settings.tracker };
  let lastTrackerErrorAt: number | null = null;
  player?.on("error", (event) => {
    if (event.kind === "tracker" && !/warning/i.test(event.message)) lastTrackerErrorAt = Date.now();
    problems.add(describeError(event, context), Date.now());
    renderProblems();
  });
  // Leaving the page closes peer connections and tells the tracker at once.
  addEventListener("pagehide", () => player?.destroy());

  if (settings.compact) {
    reportSizeToParent(settings.viewer);
    player?.on("stats", (s) => {
      setText("compact-line", compactLine(s));
      reportToParent(settings.viewer, s);
    });
    Object.assign(window, { swarmcastDemo: { settings, player } });
    return;
  }

  const totals = new ViewerTotals();
  const chart = new ThroughputChart($("chart"));
  const peerTable = new PeerTable($("peer-rows") as HTMLTableSectionElement, $("no-peers"));
  const strip = new ViewerStrip($("viewers"), (viewer) => viewerUrl(location, query, { compact: "1", viewer }), {
    stats: (viewer, s) => totals.update(viewer, s),
    removed: (viewer) => {
      totals.retire(viewer);
      $("no-viewers").hidden = strip.count > 0;
    },
  });
  ($("new-tab") as HTMLAnchorElement).href = viewerUrl(location, query, {});
  $("add-viewer").addEventListener("click", () => {
    strip.add();
    $("no-viewers").hidden = true;
  });

  let probe: ProbeState = "pending";
  const runProbe = async () => {
    probe = await probeTracker(settings.tracker);
    if (probe === "unreachable") setTimeout(() => void runProbe(), PROBE_RETRY_MS);
  };
  if (player?.p2pEnabled) void runProbe();

  type SwarmJson = { peers: number; swarms: number; audience?: { offloadRatio: number; beacons: number } };
  let swarm: SwarmJson | null = null;
  if (settings.swarmStats) {
    const url = settings.swarmStats;
    const poll = async () => {
      try {
        const res = await fetch(url, { cache: "no-store" });
        swarm = res.ok ? ((await res.json()) as SwarmJson) : null;
      } catch {
        swarm = null;
      }
    };
    void poll();
    // poll() catches its own errors.
    setInterval(() => void poll(), SWARM_POLL_MS);
  }

  const render = (s: SwarmcastStats) => {
    const now = Date.now();
    totals.update(settings.viewer, s);
    const t = totals.sum();
    chart.push(now, kilobytesPerSecond(t.httpRate), kilobytesPerSecond(t.p2pRate), t.offloadRatio);
    peerTable.update(s.peers, now);

    setText("offload", formatPercent(t.offloadRatio));
    const rate = t.httpRate + t.p2pRate;
    setText(
      "offload-note",
      rate > 0
        ? `of the bytes came from peers; ${formatPercent(t.p2pRate / rate)} right now`
        : "of the bytes came from peers",
    );
    setText("cdn-bytes", formatBytes(t.httpBytes));
    setText("cdn-rate", `${formatRate(t.httpRate)} now`);
    setText("p2p-bytes", formatBytes(t.p2pBytes));
    const checked = t.verifiedSegments > 0 ? ` · ${t.verifiedSegments} verified` : "";
    const bad = t.integrityFailures > 0 ? ` · ${t.integrityFailures} rejected` : "";
    setText("p2p-rate", `${formatRate(t.p2pRate)} now${checked}${bad}`);
    setText("up-bytes", formatBytes(t.uploadedBytes));
    setText("up-rate", `${formatRate(t.uploadRate)} now`);
    const here = `${t.viewers} in this page`;
    if (swarm) {
      setText("swarm-size", `${swarm.peers} viewer${swarm.peers === 1 ? "" : "s"}`);
      setText("swarm-note", swarm.swarms > 1 ? `in ${swarm.swarms} swarms on the tracker` : `on the tracker, ${here}`);
      const audience = swarm.audience;
      setText(
        "audience-offload",
        audience && audience.beacons > 0
          ? `audience-wide offload ${formatPercent(audience.offloadRatio)} (viewers' beacons, every 30 s)`
          : "audience-wide offload: first viewer beacons in 30 s",
      );
    } else {
      setText("swarm-size", `${s.peers.length + 1}+ viewers`);
      setText("swarm-note", `you and your peers, ${here}`);
    }
    const view = trackerView({
      p2pEnabled: s.p2pEnabled,
      probe,
      peers: s.peers.length,
      msSinceError: lastTrackerErrorAt === null ? null : now - lastTrackerErrorAt,
    });
    setText("tracker-state", view.text);
    $("tracker-card").dataset.tone = view.tone;
    setText("tracker-note", view.detail || (settings.localTracker ? "run by this demo" : settings.tracker));

    let hint: string;
    if (t.viewers <= 1 && s.peers.length === 0)
      hint = "One viewer so far: everything comes from the CDN. Add a viewer.";
    else if (t.p2pBytes === 0) hint = "Peers are connecting; the first segments over WebRTC follow within seconds.";
    else hint = "Green: bytes viewers took from each other instead of the CDN.";
    setText("hint", hint);
  };
  player?.on("stats", render);
  if (player) render(player.stats());

  Object.assign(window, { swarmcastDemo: { settings, player, totals, chart, strip } });
}

$("video").addEventListener("playing", () => {
  playingSince = Date.now();
  renderProblems();
});
renderProblems();
main().catch((err: unknown) => report(`The demo page failed: ${(err as Error).message}`));
