import { SwarmcastOptionError, type SwarmcastOptions } from "../options";

export interface AttributeSource {
  getAttribute(name: string): string | null;
}

function list(value: string): string[] {
  return value.split(/[\s,]+/).filter(Boolean);
}

/**
 * Reads attach() options from an element's data attributes:
 * - `data-swarmcast-src`      playlist URL (required)
 * - `data-swarmcast-tracker`  tracker URLs, space or comma separated
 * - `data-swarmcast-swarm`    swarm id
 * - `data-swarmcast-p2p`      "off" (or "false", "0") plays from HTTP only
 * - `data-swarmcast-token`    tracker access token
 * - `data-swarmcast-ice`      ICE server URLs, space or comma separated; empty for none
 * - `data-swarmcast-stats-beacon`  "on" reports byte counters to the tracker (statsBeacon),
 *                                  or the http(s) URL to report to
 * - `data-swarmcast-integrity`        "required", "if-present" or "off"
 * - `data-swarmcast-integrity-map`    URL of a JSON integrity map
 * - `data-swarmcast-max-upload-kbps`  upload cap, kbit/s
 * - `data-swarmcast-upload`           "auto", "on" or "off"
 */
export function readEmbedOptions(el: AttributeSource): SwarmcastOptions {
  const attr = (name: string) => el.getAttribute(`data-swarmcast-${name}`);
  const options: SwarmcastOptions = { src: attr("src") ?? "" };

  const trackers = attr("tracker");
  if (trackers !== null) options.trackers = list(trackers);

  const swarm = attr("swarm");
  if (swarm !== null) options.swarmId = swarm;

  const token = attr("token");
  if (token !== null) options.token = token;

  const p2p = attr("p2p");
  if (p2p !== null) {
    const value = p2p.trim().toLowerCase();
    if (["off", "false", "0", "no"].includes(value)) options.p2p = false;
    else if (["", "on", "true", "1", "yes"].includes(value)) options.p2p = true;
    else {
      throw new SwarmcastOptionError("p2p", `attribute data-swarmcast-p2p must be "on" or "off", got "${p2p}"`);
    }
  }

  const beacon = attr("stats-beacon");
  if (beacon !== null) {
    const value = beacon.trim();
    const lower = value.toLowerCase();
    if (["", "on", "true", "1", "yes"].includes(lower)) options.statsBeacon = true;
    else if (["off", "false", "0", "no"].includes(lower)) options.statsBeacon = false;
    else options.statsBeacon = value;
  }

  const ice = attr("ice");
  if (ice !== null) options.iceServers = list(ice).map((urls) => ({ urls }));

  // Passed on as written: attach() checks them and its messages name the option.
  const integrity = attr("integrity");
  if (integrity !== null) options.integrity = integrity.trim() as SwarmcastOptions["integrity"];

  const integrityMap = attr("integrity-map");
  if (integrityMap !== null) options.integrityMap = integrityMap;

  const maxUpload = attr("max-upload-kbps");
  if (maxUpload !== null) {
    const kbps = maxUpload.trim() === "" ? NaN : Number(maxUpload);
    if (!(kbps > 0) || !Number.isFinite(kbps)) {
      throw new SwarmcastOptionError(
        "maxUploadKbps",
        `attribute data-swarmcast-max-upload-kbps must be a positive number of kbit/s, got "${maxUpload}"`,
      );
    }
    options.maxUploadKbps = kbps;
  }

  const upload = attr("upload");
  if (upload !== null) {
    const value = upload.trim().toLowerCase();
    if (value === "auto") options.upload = "auto";
    else if (["off", "false", "0", "no"].includes(value)) options.upload = false;
    else if (["on", "true", "1", "yes"].includes(value)) options.upload = true;
    else {
      throw new SwarmcastOptionError(
        "upload",
        `attribute data-swarmcast-upload must be "auto", "on" or "off", got "${upload}"`,
      );
    }
  }

  return options;
}
