// Imported first by the SDK's entries, so that it runs before PML's module is evaluated.
import { installGuardedPeerConnection } from "./peer-connection-guard";
import { installReconnectingTrackerSocket } from "../signaling/reconnecting-socket";

installGuardedPeerConnection();
installReconnectingTrackerSocket();
