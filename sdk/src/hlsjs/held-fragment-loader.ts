import type { FragmentLoaderContext, HlsConfig, LoaderCallbacks, LoaderConfiguration } from "hls.js";
import type { Hold, LiveEdgeFetcher } from "../live/edge-fetcher";

type FragmentLoaderClass = NonNullable<HlsConfig["fLoader"]>;

/**
 * Wraps PML's fragment loader so hls.js's request for a segment being edge-fetched waits for it,
 * and a request PML failed waits a moment for a peer's copy before hls.js hears of the failure
 * ({@link LiveEdgeFetcher.whenStored}).
 */
export function holdFragmentLoader(Inner: FragmentLoaderClass, edge: LiveEdgeFetcher): FragmentLoaderClass {
  class HeldFragmentLoader {
    private readonly inner: InstanceType<FragmentLoaderClass>;
    private held: Hold | undefined;
    private callbacks: LoaderCallbacks<FragmentLoaderContext> | undefined;
    private ownContext: FragmentLoaderContext | undefined;
    /** Set while a failed load waits for a peer's copy; cleared by abort and destroy. */
    private waitingForPeer = false;
    constructor(config: HlsConfig) {
      this.inner = new Inner(config);
    }
    get stats() {
      return this.inner.stats;
    }
    get context() {
      return this.inner.context ?? this.ownContext ?? null;
    }
    load(
      context: FragmentLoaderContext,
      config: LoaderConfiguration,
      callbacks: LoaderCallbacks<FragmentLoaderContext>,
    ) {
      const start = () => {
        edge.markPassed(context.frag.url);
        this.inner.load(context, config, { ...callbacks, onError: onFirstError });
      };
      const onFirstError: LoaderCallbacks<FragmentLoaderContext>["onError"] = (error, ctx, networkDetails, stats) => {
        const sn = context.frag.sn;
        if (typeof sn !== "number") {
          callbacks.onError(error, ctx, networkDetails, stats);
          return;
        }
        this.ownContext = context;
        this.callbacks = callbacks;
        this.waitingForPeer = true;
        void edge.whenStored(context.frag.url, sn).then((stored) => {
          if (!this.waitingForPeer) return;
          this.waitingForPeer = false;
          // Stored: PML answers the same request from its store at once.
          if (stored) this.inner.load(context, config, callbacks);
          else callbacks.onError(error, ctx, networkDetails, stats);
        });
      };
      if (!edge.holdFor(context.frag.url)) {
        start();
        return;
      }
      this.ownContext = context;
      this.callbacks = callbacks;
      const hold: Hold = {
        url: context.frag.url,
        release: () => {
          if (this.held !== hold) return;
          this.held = undefined;
          start();
        },
      };
      this.held = hold;
      edge.addHold(hold);
    }
    abort() {
      if (this.waitingForPeer) {
        this.waitingForPeer = false;
        this.inner.stats.aborted = true;
        if (this.ownContext) this.callbacks?.onAbort?.(this.inner.stats, this.ownContext, null);
        return;
      }
      if (this.held) {
        edge.removeHold(this.held);
        this.held = undefined;
        this.inner.stats.aborted = true;
        if (this.ownContext) this.callbacks?.onAbort?.(this.inner.stats, this.ownContext, null);
        return;
      }
      this.inner.abort();
    }
    destroy() {
      this.waitingForPeer = false;
      if (this.held) {
        edge.removeHold(this.held);
        this.held = undefined;
        this.callbacks = undefined;
        return;
      }
      this.inner.destroy();
    }
  }
  return HeldFragmentLoader;
}
