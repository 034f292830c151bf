// The pml-defaults mode of the offload bench: hls.js and p2p-media-loader 2.3.1 as any site
// would bundle them, exposed as the global BenchPml for bench/pages/viewer.ts.
import Hls from "hls.js";
import { HlsJsP2PEngine } from "p2p-media-loader-hlsjs";

export { Hls, HlsJsP2PEngine };
