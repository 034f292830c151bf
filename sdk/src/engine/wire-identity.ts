import Hls from "hls.js";
import type { CoreConfig, DynamicCoreConfig } from "p2p-media-loader-core";
import type { HlsJsP2PEngine } from "p2p-media-loader-hlsjs";
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

/**
 * Without a `swarmId` option the swarm is the playlist URL without its query, as PML makes it,
 * with the wire version in front; set before each playlist load, so before PML joins a swarm.
 * PML 2.3.1 does apply `swarmId` at run time (it overrides every stream setting its config
 * has), though its `DynamicCoreConfig` type does not list it.
 */
export function bindDefaultSwarmId(hls: Hls, engine: HlsJsP2PEngine): void {
  hls.on(Hls.Events.MANIFEST_LOADING, (_event, { url }) => {
    const swarmId: Pick<CoreConfig, "swarmId"> = { swarmId: wireSwarmId(url.split("?")[0]) };
    engine.applyDynamicConfig({ core: swarmId as DynamicCoreConfig });
  });
}
