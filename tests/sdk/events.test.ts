import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Emitter } from "../../sdk/src/events";

type Map = { a: number; b: string };

describe("Emitter", () => {
  it("delivers to subscribers and stops after the returned unsubscribe or off()", () => {
    const e = new Emitter<Map>();
    const seen: unknown[] = [];
    const fn = (n: number) => seen.push(n);
    const unsubscribe = e.on("a", fn);
    const fnB = (s: string) => seen.push(s);
    e.on("b", fnB);
    e.emit("a", 1);
    e.emit("b", "x");
    unsubscribe();
    e.emit("a", 2);
    e.off("b", fnB);
    e.emit("b", "y");
    assert.deepEqual(seen, [1, "x"]);
    assert.equal(e.listenerCount("a"), 0);
  });

  it("keeps delivering when a listener throws, and lets listeners unsubscribe while emitting", (t) => {
    const e = new Emitter<Map>();
    const logged = t.mock.method(console, "error", () => undefined);
    const seen: number[] = [];
    e.on("a", () => {
      throw new Error("boom");
    });
    const off = e.on("a", (n) => {
      seen.push(n);
      off();
    });
    e.on("a", (n) => seen.push(n * 10));
    e.emit("a", 1);
    e.emit("a", 2);
    assert.deepEqual(seen, [1, 10, 20]);
    assert.equal(logged.mock.callCount(), 2);
  });

  it("refuses a non-function listener and clears everything", () => {
    const e = new Emitter<Map>();
    assert.throws(() => e.on("a", "nope" as never), /on\("a", fn\) needs a function/);
    e.on("a", () => undefined);
    e.clear();
    assert.equal(e.listenerCount("a"), 0);
  });
});

describe("RecoveryBudget", () => {
  it("numbers attempts within the window and refuses past the maximum", async () => {
    const { RecoveryBudget } = await import("../../sdk/src/player/recovery");
    const budget = new RecoveryBudget(3, 30_000);
    assert.deepEqual([budget.take(0), budget.take(1000), budget.take(2000), budget.take(3000)], [1, 2, 3, 0]);
    assert.equal(budget.take(30_000), 3, "the first attempt left the window: a slot is free again");
    assert.equal(budget.take(30_001), 0);
  });
});
