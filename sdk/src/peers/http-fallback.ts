/**
 * What an HTTP fetch is worth to a viewer now, told to the build-time PML patches by PML's
 * segment store: PML's queue knows its store, not the SDK session around it.
 */
export interface HttpFallback {
  /** How long its HTTP fetch of a segment takes (undefined: not measured). */
  seconds: number | undefined;
  /** Its CDN is failing: the last request failed and none succeeded since. */
  failing: boolean;
  /** Its CDN is failing and the last failure is recent (`liveEdge.cdnFailurePauseMs`). */
  failedLately: boolean;
}

const byStore = new WeakMap<object, () => HttpFallback>();

/** Tells the queue patches what an HTTP fetch is worth to the viewer whose PML uses `store`. */
export function setHttpFallback(store: object, estimate: () => HttpFallback): void {
  byStore.set(store, estimate);
}

/** The viewer's HTTP fallback now; undefined for a store the SDK did not create (or none). */
export function httpFallbackOf(store: object | undefined): HttpFallback | undefined {
  return store ? byStore.get(store)?.() : undefined;
}
