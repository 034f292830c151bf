/** The simulator's clock: events ordered by time, ties in the order they were scheduled (a binary heap). */
export class EventQueue {
  private heap: Event[] = [];
  private nextSeq = 0;
  /** The time of the event running now, seconds. */
  now = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Runs `action` at time `at` (not before now). */
  at(at: number, action: () => void): void {
    const event: Event = { time: at < this.now ? this.now : at, seq: this.nextSeq++, action };
    const heap = this.heap;
    let i = heap.length;
    heap.push(event);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(event, heap[parent])) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = event;
  }

  /** Runs `action` `delay` seconds from now. */
  after(delay: number, action: () => void): void {
    this.at(this.now + delay, action);
  }

  /** Runs events in order until none is left or the next one is later than `until`. */
  run(until: number): void {
    const heap = this.heap;
    while (heap.length > 0 && heap[0].time <= until) {
      const event = heap[0];
      const last = heap.pop()!;
      if (heap.length > 0) this.sink(last);
      this.now = event.time;
      event.action();
    }
    this.now = Math.max(this.now, until);
  }

  /** Puts `event` at the root's place and moves it down to where it belongs. */
  private sink(event: Event): void {
    const heap = this.heap;
    const n = heap.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && before(heap[r], heap[l]) ? r : l;
      if (!before(heap[child], event)) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = event;
  }
}

interface Event {
  time: number;
  seq: number;
  action: () => void;
}

function before(a: Event, b: Event): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
