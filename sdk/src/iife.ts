// Entry of the script-tag build: the same API as the module build, plus the zero-code embed.
import { attachAllWhenReady } from "./embed/embed";

export * from "./index";

attachAllWhenReady();
