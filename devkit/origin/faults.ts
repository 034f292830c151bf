import type { ResponseKind } from "./egress.js";

export type FaultTarget = "segments" | "playlists" | "all";

export interface FaultRule {
  /** Client ids the rule applies to; every client when absent. */
  clients?: string[];
  /** Answer with this status instead of the content (e.g. 503). */
  status?: number;
  /** Hold the response this long before answering. */
  delayMs?: number;
  /** Reset the connection (after `delayMs`, if any) instead of answering: a dropped TCP stream. */
  reset?: boolean;
  /**
   * Send a segment's body at a pace that makes it last this many times its media duration (a
   * congested edge: 1.5 delivers a 2 s segment in 3 s). Playlists are never paced.
   */
  paceFactor?: number;
  /** Wall-clock window (epoch ms) in which the rule is active; always when absent. */
  from?: number;
  until?: number;
  /** Which responses the rule hits; segments by default. */
  target?: FaultTarget;
}

export interface FaultDecision {
  /** Some rule matched: the response is a faulty one. */
  hit: boolean;
  status?: number;
  delayMs: number;
  reset: boolean;
  /** The largest pace factor of the matching rules; 0 when none paces. */
  paceFactor: number;
}

export function validateFaultRule(rule: FaultRule, index: number): void {
  const where = `fault rule ${index}`;
  if (rule.status !== undefined && (!Number.isInteger(rule.status) || rule.status < 400 || rule.status > 599)) {
    throw new Error(`${where}: status must be an HTTP error status 400-599, got ${rule.status}`);
  }
  if (rule.delayMs !== undefined && !(rule.delayMs >= 0)) {
    throw new Error(`${where}: delayMs must be a number >= 0, got ${rule.delayMs}`);
  }
  if (rule.target !== undefined && !["segments", "playlists", "all"].includes(rule.target)) {
    throw new Error(`${where}: target must be "segments", "playlists" or "all", got ${String(rule.target)}`);
  }
  if (rule.paceFactor !== undefined && !(rule.paceFactor > 0 && Number.isFinite(rule.paceFactor))) {
    throw new Error(`${where}: paceFactor must be a number > 0, got ${rule.paceFactor}`);
  }
  if (rule.reset !== undefined && typeof rule.reset !== "boolean") {
    throw new Error(`${where}: reset must be true or false, got ${String(rule.reset)}`);
  }
  if (rule.reset && rule.status !== undefined) {
    throw new Error(`${where}: reset and status exclude each other (a reset connection has no status)`);
  }
  if (rule.status === undefined && rule.delayMs === undefined && !rule.reset && rule.paceFactor === undefined) {
    throw new Error(`${where}: needs a status, a delayMs, reset or a paceFactor`);
  }
  if (rule.from !== undefined && rule.until !== undefined && rule.until <= rule.from) {
    throw new Error(`${where}: until (${rule.until}) must be after from (${rule.from})`);
  }
}

function targets(rule: FaultRule, kind: ResponseKind): boolean {
  const target = rule.target ?? "segments";
  if (target === "all") return true;
  return (target === "segments" && kind === "segment") || (target === "playlists" && kind === "playlist");
}

/** Combines every active rule that matches: the largest delay and pace, the first error status, any reset. */
export function decideFault(
  rules: readonly FaultRule[],
  clientId: string,
  kind: ResponseKind,
  nowMs: number,
): FaultDecision {
  const decision: FaultDecision = { hit: false, delayMs: 0, reset: false, paceFactor: 0 };
  for (const rule of rules) {
    if (rule.from !== undefined && nowMs < rule.from) continue;
    if (rule.until !== undefined && nowMs >= rule.until) continue;
    if (rule.clients && !rule.clients.includes(clientId)) continue;
    if (!targets(rule, kind)) continue;
    decision.hit = true;
    decision.delayMs = Math.max(decision.delayMs, rule.delayMs ?? 0);
    decision.reset ||= rule.reset === true;
    if (kind === "segment") decision.paceFactor = Math.max(decision.paceFactor, rule.paceFactor ?? 0);
    if (decision.status === undefined && rule.status !== undefined) decision.status = rule.status;
  }
  return decision;
}
