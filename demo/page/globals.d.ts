// Globals of the demo page: the script-tag builds it loads before its own modules.
import type * as SwarmcastModule from "../../sdk/src/index";
import type * as EchartsModule from "echarts";

declare global {
  const Swarmcast: typeof SwarmcastModule;
  const echarts: typeof EchartsModule;
}
