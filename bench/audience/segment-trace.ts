/**
 * What happened to each recent segment on its way to a virtual viewer's player — the player's
 * request, PML's attempts and their sources, the SDK's own early fetch, the delivery — so the
 * record of a stall says which path was slow.
 */
export class SegmentTrace {
  private readonly steps = new Map<string, Array<{ at: number; what: string }>>();

  constructor(
    /** Segments remembered. */
    private readonly keepSegments = 40,
    /** Steps remembered per segment: the first ones and the latest ones. */
    private readonly keepSteps = 16,
  ) {}

  note(url: string, what: string, at = Date.now()): void {
    let list = this.steps.get(url);
    if (!list) {
      this.steps.set(url, (list = []));
      if (this.steps.size > this.keepSegments) this.steps.delete(this.steps.keys().next().value as string);
    }
    list.push({ at, what });
    if (list.length > this.keepSteps) list.splice(this.keepSteps / 2, 1);
  }

  /** The steps of `url`, each as "<ms from `reference`> <what>" (negative: before it). */
  describe(url: string, reference: number): string[] {
    return (this.steps.get(url) ?? []).map((s) => `${s.at - reference}ms ${s.what}`);
  }
}
