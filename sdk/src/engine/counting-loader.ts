import type { HlsConfig, LoaderCallbacks, LoaderConfiguration, LoaderContext } from "hls.js";

export type LoaderClass = HlsConfig["loader"];

/**
 * Wraps an hls.js loader class so every media segment it fetches over HTTP is reported.
 * PML counts the bytes it moves itself; this catches the rest: every segment when P2P is off,
 * and the segments PML hands back to hls.js's own loader when it does not manage them.
 */
export function createCountingLoader(Base: LoaderClass, onSegment: (url: string, bytes: number) => void): LoaderClass {
  const BaseLoader = Base;
  class CountingLoader extends BaseLoader {
    override load(
      context: LoaderContext,
      config: LoaderConfiguration,
      callbacks: LoaderCallbacks<LoaderContext>,
    ): void {
      if (!("frag" in context)) {
        super.load(context, config, callbacks);
        return;
      }
      super.load(context, config, {
        ...callbacks,
        onSuccess: (response, stats, ctx, details) => {
          const data = response.data;
          const bytes =
            data instanceof ArrayBuffer ? data.byteLength : typeof data === "string" ? data.length : stats.loaded;
          onSegment(response.url || ctx.url, bytes);
          callbacks.onSuccess(response, stats, ctx, details);
        },
      });
    }
  }
  return CountingLoader;
}
