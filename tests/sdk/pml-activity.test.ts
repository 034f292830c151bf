import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CoreEventMap } from "p2p-media-loader-core";
import { PmlActivity, watchPmlIdle } from "../../sdk/src/live/pml-activity";

/** PML's events for one segment, as its queue fires them. */
function events(activity: PmlActivity, url: string) {
  const l = activity.pmlListeners as Required<
    Pick<CoreEventMap, "onSegmentStart" | "onSegmentError" | "onSegmentAbort" | "onSegmentLoaded">
  >;
  const segment = { url } as Parameters<CoreEventMap["onSegmentStart"]>[0]["segment"];
  return {
    start: () => l.onSegmentStart({ segment, downloadSource: "http" } as never),
    fail: () => l.onSegmentError({ segment, downloadSource: "http" } as never),
    abort: () => l.onSegmentAbort({ segment, downloadSource: "p2p" } as never),
    loaded: () => l.onSegmentLoaded({ segmentUrl: url, downloadSource: "p2p" } as never),
  };
}

describe("PmlActivity", () => {
  it("is never idle while an attempt runs, and idle from the end of the last one", () => {
    let now = 1000;
    const activity = new PmlActivity(() => now);
    const s = events(activity, "s1");
    s.start();
    now = 9000;
    assert.equal(activity.idleMs("s1", 0), 0);
    s.fail();
    now = 9500;
    assert.equal(activity.idleMs("s1", 0), 500);
    s.start(); // PML's next attempt, from a peer
    s.abort();
    now = 10_000;
    assert.equal(activity.idleMs("s1", 0), 500);
  });

  it("counts from the player's request at the earliest, also for a segment PML never tried", () => {
    let now = 5000;
    const activity = new PmlActivity(() => now);
    events(activity, "old").loaded();
    now = 20_000;
    assert.equal(activity.idleMs("old", 19_000), 1000);
    assert.equal(activity.idleMs("never", 18_000), 2000);
  });

  it("overlapping attempts (HTTP and a peer) keep it busy until both end; extra ends do not go below zero", () => {
    let now = 0;
    const activity = new PmlActivity(() => now);
    const s = events(activity, "s1");
    s.start();
    s.start();
    s.fail();
    now = 3000;
    assert.equal(activity.idleMs("s1", 0), 0);
    s.loaded();
    s.abort();
    s.start();
    assert.equal(activity.idleMs("s1", 0), 0, "a new attempt after surplus ends counts");
  });

  it("watchPmlIdle calls back once the request has been idle for idleMs, and not after cancel", async () => {
    const activity = new PmlActivity();
    const s = events(activity, "s1");
    s.start();
    let idle = 0;
    watchPmlIdle(
      activity,
      "s1",
      { idleMs: 60, tickMs: 10 },
      () => true,
      () => idle++,
    );
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(idle, 0, "busy: never idle");
    s.fail();
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(idle, 1);
    let cancelled = 0;
    const cancel = watchPmlIdle(
      activity,
      "s2",
      { idleMs: 60, tickMs: 10 },
      () => true,
      () => cancelled++,
    );
    cancel();
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(cancelled, 0);
  });

  it("watchPmlIdle leaves PML a segment the player does not need yet, and counts from when it does", async () => {
    const activity = new PmlActivity();
    let needed = false;
    let idle = 0;
    watchPmlIdle(
      activity,
      "ahead",
      { idleMs: 80, tickMs: 10 },
      () => needed,
      () => idle++,
    );
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(idle, 0, "not needed: PML may wait for a peer");
    needed = true;
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(idle, 0, "idle counts from when it is needed");
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(idle, 1);
  });
});
