import type { HlsConfig, LoaderCallbacks, LoaderConfiguration, LoaderContext } from "hls.js";

export type LoaderClass = HlsConfig["loader"];

/** What a counting loader reports: each media segment fetched, and each fetch that failed. */
export interface SegmentCounter {
  onSegment(url: string, bytes: number): void;
  onFailure(url: string, reason: string): void;
}

/**
 * Wraps an hls.js loader class so every media segment it fetches over HTTP is reported, and
 * every such fetch that fails. PML counts the bytes it moves itself; this catches the rest:
 * every segment when P2P is off, and the segments PML hands back to hls.js's own loader.
 */
export function createCountingLoader(Base: LoaderClass, counter: SegmentCounter): LoaderClass {
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
          counter.onSegment(response.url || ctx.url, bytes);
          callbacks.onSuccess(response, stats, ctx, details);
        },
        onError: (error, ctx, details, stats) => {
          counter.onFailure(ctx.url, `HTTP ${error.code} ${error.text}`.trim());
          callbacks.onError(error, ctx, details, stats);
        },
        onTimeout: (stats, ctx, details) => {
          counter.onFailure(ctx.url, "no answer in time");
          callbacks.onTimeout(stats, ctx, details);
        },
      });
    }
  }
  return CountingLoader;
}
