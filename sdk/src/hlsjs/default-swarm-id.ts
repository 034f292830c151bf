import Hls from "hls.js";
import type { CoreConfig, DynamicCoreConfig } from "p2p-media-loader-core";
import type { HlsJsP2PEngine } from "p2p-media-loader-hlsjs";
import { defaultWireSwarmId } from "../engine/wire-identity";

/**
 * Without a `swarmId` option the swarm is the playlist URL without its query, as PML makes it,
 * with the wire version in front; set before each playlist load, so before PML joins a swarm.
 * PML 2.3.1 does apply `swarmId` at run time (it overrides every stream setting its config
 * has), though its `DynamicCoreConfig` type does not list it.
 */
export function bindDefaultSwarmId(hls: Hls, engine: HlsJsP2PEngine): void {
  hls.on(Hls.Events.MANIFEST_LOADING, (_event, { url }) => {
    const swarmId: Pick<CoreConfig, "swarmId"> = { swarmId: defaultWireSwarmId(url) };
    engine.applyDynamicConfig({ core: swarmId as DynamicCoreConfig });
  });
}
