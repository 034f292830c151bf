import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_SWARMCAST_CONFIG } from "../../sdk/src/config";
import { type ConnectionUse, connectionToDrop } from "../../sdk/src/peers/peer-choice";

const config = DEFAULT_SWARMCAST_CONFIG.peerChoice;
const now = 1_000_000;
const use = (ageMs: number, recentBytes: number, quietForMs?: number): ConnectionUse => ({
  openedAt: now - ageMs,
  recentBytes,
  lastActiveAt: quietForMs === undefined ? undefined : now - quietForMs,
});

describe("connectionToDrop", () => {
  it("keeps every connection while the set has a free slot", () => {
    const set = new Map([
      ["a", use(120_000, 0)],
      ["b", use(120_000, 5_000_000, 20_000)],
    ]);
    assert.equal(connectionToDrop(set, 3, now, config), undefined);
  });

  it("in a full set, picks the connection that moved the fewest bytes over the window", () => {
    const set = new Map([
      ["busy", use(120_000, 5_000_000, 20_000)],
      ["some", use(120_000, 400_000, 20_000)],
      ["idle", use(120_000, 0)],
    ]);
    assert.equal(connectionToDrop(set, 3, now, config), "idle");
    set.delete("idle");
    set.set("late", use(120_000, 10_000, 30_000));
    assert.equal(connectionToDrop(set, 3, now, config), "late");
  });

  it("keeps a connection too young to have delivered, and one that moved bytes within quietMs", () => {
    const set = new Map([
      ["young", use(config.minAgeMs - 1, 0)],
      ["mid-transfer", use(120_000, 1000, config.quietMs - 1)],
      ["useful", use(120_000, 2_000_000, 10_000)],
    ]);
    assert.equal(connectionToDrop(set, 3, now, config), "useful", "the only one old and quiet enough");
    set.delete("useful");
    assert.equal(connectionToDrop(set, 2, now, config), undefined);
  });

  it("keeps freeSlots slots open", () => {
    const set = new Map([
      ["a", use(120_000, 10)],
      ["b", use(120_000, 20)],
    ]);
    assert.equal(connectionToDrop(set, 3, now, { ...config, freeSlots: 1 }), undefined);
    assert.equal(connectionToDrop(set, 3, now, { ...config, freeSlots: 2 }), "a");
  });
});
