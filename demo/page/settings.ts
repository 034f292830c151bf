/**
 * What the page plays and where it announces: the server's /config.json, overridden by the
 * page's query parameters. Pure: no DOM, so it runs under node:test too.
 */

/** Body of /config.json. URLs may be paths on the demo server ("/tracker"). */
export interface DemoConfig {
  /** HLS playlist: absolute URL or a path on the demo server. */
  src: string;
  /** Tracker: ws(s):// URL or a path on the demo server (made ws(s):// from the page's host). */
  tracker: string;
  /** Swarm id shared by every viewer of the default stream; null = the SDK's (playlist URL). */
  swarm: string | null;
  localStream: boolean;
  localTracker: boolean;
  /** Path of the tracker's swarm counts, when the tracker is the demo's own. */
  swarmStats: string | null;
  version: string;
}

export interface PageSettings {
  src: string;
  tracker: string;
  swarmId: string | undefined;
  /** undefined = the SDK's default STUN servers. */
  iceServers: RTCIceServer[] | undefined;
  /** Whether the tracker is the one the demo server started. */
  localTracker: boolean;
  /** Path of the swarm counts to poll, or null. */
  swarmStats: string | null;
  /** An added viewer: player and one line of figures only. */
  compact: boolean;
  /** Label of this viewer ("1" for the main page). */
  viewer: string;
  /** Query parameters that were ignored, in plain words. */
  warnings: string[];
}

interface PageLocation {
  href: string;
  protocol: string;
  host: string;
}

function parseUrl(value: string, base: string): URL | undefined {
  try {
    return new URL(value, base);
  } catch {
    return undefined;
  }
}

/** Query parameters a viewer passes on to the viewers it adds. */
export const FORWARDED_PARAMS = ["src", "tracker", "swarm", "ice"] as const;

export function resolvePageSettings(config: DemoConfig, query: URLSearchParams, location: PageLocation): PageSettings {
  const warnings: string[] = [];

  const defaultSrc = new URL(config.src, location.href).toString();
  let src = defaultSrc;
  const srcParam = query.get("src")?.trim();
  if (srcParam) {
    const url = parseUrl(srcParam, location.href);
    if (url && (url.protocol === "http:" || url.protocol === "https:")) src = url.toString();
    else
      warnings.push(
        `The "src" parameter must be an http(s) link to an .m3u8 playlist; "${srcParam}" is not. Playing the default stream instead.`,
      );
  }
  const customSrc = src !== defaultSrc;

  const wsBase = `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/`;
  const defaultTracker = config.tracker.startsWith("/") ? new URL(config.tracker, wsBase).toString() : config.tracker;
  let tracker = defaultTracker;
  const trackerParam = query.get("tracker")?.trim();
  if (trackerParam) {
    const url = parseUrl(trackerParam, wsBase);
    if (url && (url.protocol === "ws:" || url.protocol === "wss:")) tracker = trackerParam;
    else
      warnings.push(
        `The "tracker" parameter must be a ws:// or wss:// link; "${trackerParam}" is not. Using the demo's tracker instead.`,
      );
  }
  const localTracker = config.localTracker && tracker === defaultTracker;

  const swarmParam = query.get("swarm")?.trim();
  const swarmId = swarmParam || (customSrc ? undefined : (config.swarm ?? undefined));

  let iceServers: RTCIceServer[] | undefined;
  const iceParam = query.get("ice");
  if (iceParam !== null) {
    iceServers = [];
    for (const item of iceParam.split(/[\s,]+/).filter(Boolean)) {
      if (/^(stun|stuns|turn|turns):/i.test(item)) iceServers.push({ urls: item });
      else warnings.push(`The "ice" parameter takes stun: or turn: links separated by commas; "${item}" was skipped.`);
    }
  } else if (localTracker) {
    // Peers of a local tracker share this machine or network: host candidates suffice, and
    // waiting on unreachable STUN servers would only delay every connection.
    iceServers = [];
  }

  const viewerParam = query.get("viewer")?.trim();
  return {
    src,
    tracker,
    swarmId,
    iceServers,
    localTracker,
    swarmStats: localTracker ? config.swarmStats : null,
    compact: query.get("compact") === "1",
    viewer: viewerParam && /^[A-Za-z0-9_-]{1,16}$/.test(viewerParam) ? viewerParam : "1",
    warnings,
  };
}

/** URL of another viewer of the same stream: the forwarded parameters of `query`, plus `extra`. */
export function viewerUrl(location: PageLocation, query: URLSearchParams, extra: Record<string, string>): string {
  const url = new URL("/", location.href);
  for (const name of FORWARDED_PARAMS) {
    const value = query.get(name);
    if (value !== null) url.searchParams.set(name, value);
  }
  for (const [name, value] of Object.entries(extra)) url.searchParams.set(name, value);
  return url.toString();
}
