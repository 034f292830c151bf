// What peers can do to a viewer, and what a viewer that configured nothing gets, in real
// Chromium with real WebRTC, our tracker and the local live origin: spot checks against a liar,
// an oversize segment announcement, an offer flood, the upload cap with two viewers, and the
// defaults (integrity warning, upload "auto"). The cases share one Chromium, page server,
// tracker and origin pair (peer-cases/stage.ts), each in its own swarm, one after the other (side
// by side they starve each other on a 2-core machine).
import { after, before, describe } from "node:test";
import { defaultsCase } from "./peer-cases/defaults";
import { offerFloodCase } from "./peer-cases/offer-flood";
import { oversizePeerCase } from "./peer-cases/oversize-peer";
import { spotCheckCase } from "./peer-cases/spot-check";
import { startPeerStages } from "./peer-cases/stage";
import { uploadCapCase } from "./peer-cases/upload-cap";

let stop: (() => Promise<void>) | undefined;
before(async () => {
  stop = await startPeerStages();
});
after(() => stop?.());

describe("peers and defaults in Chromium", () => {
  uploadCapCase();
  defaultsCase();
  spotCheckCase();
  oversizePeerCase();
  // Last: its sixty connections are the heaviest load the browser is left with.
  offerFloodCase();
});
