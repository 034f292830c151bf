import type { CoreConfig } from "p2p-media-loader-core";
import { WIRE_VERSION } from "../../../shared/protocol";
import { version } from "../version";

/**
 * How the SDK names itself in its tracker peer id, BitTorrent style: "-SC" + two digits each of
 * major, minor and patch + "-" ("-SC000100-" for 0.1.0). PML fills the rest of the 20 characters
 * at random; its own prefix would only name PML's version.
 */
export const PEER_ID_PREFIX = `-SC${version
  .split(/[.+-]/)
  .slice(0, 3)
  .map((part) => (/^\d+$/.test(part) ? part.padStart(2, "0").slice(-2) : "00"))
  .join("")}-`;

/** The swarm id announced for `swarmId`: viewers of other wire versions land in other swarms. */
export function wireSwarmId(swarmId: string): string {
  return `swarmcast-wire-${WIRE_VERSION}:${swarmId}`;
}

/**
 * PML core settings that identify this SDK: its peer id prefix and the swarm ids given (the
 * `swarmId` option, or per stream through the `core` option).
 */
export function wireIdentity(core: Partial<CoreConfig>): Partial<CoreConfig> {
  const perStream = (stream: CoreConfig["mainStream"]) =>
    stream?.swarmId !== undefined ? { ...stream, swarmId: wireSwarmId(stream.swarmId) } : stream;
  return {
    trackerClientVersionPrefix: core.trackerClientVersionPrefix ?? PEER_ID_PREFIX,
    ...(core.swarmId !== undefined ? { swarmId: wireSwarmId(core.swarmId) } : {}),
    ...(core.mainStream ? { mainStream: perStream(core.mainStream) } : {}),
    ...(core.secondaryStream ? { secondaryStream: perStream(core.secondaryStream) } : {}),
  };
}

/** The swarm id announced without a `swarmId` option: the playlist URL without its query, as PML makes it. */
export function defaultWireSwarmId(playlistUrl: string): string {
  return wireSwarmId(playlistUrl.split("?")[0]);
}
