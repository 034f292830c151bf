import type { FragmentLoaderContext, HlsConfig, LoaderCallbacks, LoaderConfiguration } from "hls.js";
import type { Hold, LiveEdgeFetcher } from "../live/edge-fetcher";
import { watchPmlIdle, type PmlActivity, type PmlIdleFallbackConfig } from "../live/pml-activity";

type FragmentLoaderClass = NonNullable<HlsConfig["fLoader"]>;
type Loader = InstanceType<FragmentLoaderClass>;

/** What the wrapped loader watches PML with: its attempts, and when to take a request back. */
export interface PmlWatch {
  activity: PmlActivity;
  config: PmlIdleFallbackConfig;
  /** Whether the player needs the segment starting at `startSec` now. */
  needsNow(startSec: number): boolean;
}

/**
 * Wraps PML's fragment loader: hls.js's request for a segment being edge-fetched waits for it; a
 * request PML failed waits a moment for a peer's copy before hls.js hears of the failure
 * ({@link LiveEdgeFetcher.whenStored}); and a request PML stopped working on (no attempt
 * running, see {@link PmlActivity}) is taken back and loaded from the CDN with hls.js's own loader.
 */
export function holdFragmentLoader(
  Inner: FragmentLoaderClass,
  edge: LiveEdgeFetcher | undefined,
  watch: PmlWatch,
): FragmentLoaderClass {
  class HeldFragmentLoader {
    private readonly inner: Loader;
    private readonly hlsConfig: HlsConfig;
    private held: Hold | undefined;
    private callbacks: LoaderCallbacks<FragmentLoaderContext> | undefined;
    private ownContext: FragmentLoaderContext | undefined;
    /** Set while a failed load waits for a peer's copy; cleared by abort and destroy. */
    private waitingForPeer = false;
    /** hls.js's own loader, once a request PML stopped working on was taken back. */
    private fallback: Loader | undefined;
    private stopWatching: (() => void) | undefined;
    /** PML handed the current request to hls.js's loader (a segment it does not manage). */
    private delegated = false;
    constructor(config: HlsConfig) {
      this.hlsConfig = config;
      const Default = config.loader;
      const markDelegated = () => (this.delegated = true);
      // PML builds hls.js's loader from this config for the segments it leaves to HTTP.
      const loader = function (this: unknown, loaderConfig: HlsConfig) {
        markDelegated();
        return new Default(loaderConfig);
      } as unknown as HlsConfig["loader"];
      this.inner = new Inner({ ...config, loader });
    }
    get stats() {
      return (this.fallback ?? this.inner).stats;
    }
    get context() {
      return this.fallback?.context ?? this.inner.context ?? this.ownContext ?? null;
    }
    load(
      context: FragmentLoaderContext,
      config: LoaderConfiguration,
      callbacks: LoaderCallbacks<FragmentLoaderContext>,
    ) {
      this.ownContext = context;
      this.callbacks = callbacks;
      const url = context.frag.url;
      const throughPml = (pmlCallbacks: LoaderCallbacks<FragmentLoaderContext>) => {
        this.stopWatching?.();
        this.stopWatching = watchPmlIdle(
          watch.activity,
          url,
          watch.config,
          () => watch.needsNow(context.frag.start),
          () => this.takeBack(config),
        );
        const settled = <A extends unknown[]>(fn: ((...args: A) => void) | undefined) =>
          fn &&
          ((...args: A) => {
            this.stopWatching?.();
            fn(...args);
          });
        this.delegated = false;
        this.inner.load(context, config, {
          ...pmlCallbacks,
          onSuccess: settled(pmlCallbacks.onSuccess)!,
          onError: settled(pmlCallbacks.onError)!,
          onTimeout: settled(pmlCallbacks.onTimeout)!,
          // PML's abort of a request taken back is not hls.js's business.
          onAbort: (...args) => {
            if (!this.fallback) pmlCallbacks.onAbort?.(...args);
          },
        });
        if (this.delegated) this.stopWatching();
      };
      const start = () => {
        edge?.markPassed(url);
        throughPml({ ...callbacks, onError: onFirstError });
      };
      const onFirstError: LoaderCallbacks<FragmentLoaderContext>["onError"] = (error, ctx, networkDetails, stats) => {
        const sn = context.frag.sn;
        if (!edge || typeof sn !== "number") {
          callbacks.onError(error, ctx, networkDetails, stats);
          return;
        }
        this.waitingForPeer = true;
        void edge.whenStored(url, sn).then((stored) => {
          if (!this.waitingForPeer) return;
          this.waitingForPeer = false;
          // Stored: PML answers the same request from its store at once.
          if (stored) throughPml(callbacks);
          else callbacks.onError(error, ctx, networkDetails, stats);
        });
      };
      if (!edge?.holdFor(url)) {
        start();
        return;
      }
      const hold: Hold = {
        url,
        release: () => {
          if (this.held !== hold) return;
          this.held = undefined;
          start();
        },
      };
      this.held = hold;
      edge.addHold(hold);
    }
    /** PML stopped working on the request: it is aborted there and loaded from the CDN. */
    private takeBack(config: LoaderConfiguration) {
      const context = this.ownContext;
      const callbacks = this.callbacks;
      if (!context || !callbacks || this.fallback) return;
      this.fallback = new this.hlsConfig.loader(this.hlsConfig) as Loader;
      this.inner.abort();
      this.fallback.load(context, config, callbacks);
    }
    abort() {
      this.stopWatching?.();
      if (this.fallback) {
        this.fallback.abort();
        return;
      }
      if (this.waitingForPeer) {
        this.waitingForPeer = false;
        this.inner.stats.aborted = true;
        if (this.ownContext) this.callbacks?.onAbort?.(this.inner.stats, this.ownContext, null);
        return;
      }
      if (this.held) {
        edge?.removeHold(this.held);
        this.held = undefined;
        this.inner.stats.aborted = true;
        if (this.ownContext) this.callbacks?.onAbort?.(this.inner.stats, this.ownContext, null);
        return;
      }
      this.inner.abort();
    }
    destroy() {
      this.stopWatching?.();
      this.waitingForPeer = false;
      this.fallback?.destroy();
      if (this.held) {
        edge?.removeHold(this.held);
        this.held = undefined;
        this.callbacks = undefined;
        return;
      }
      this.inner.destroy();
    }
  }
  return HeldFragmentLoader;
}
