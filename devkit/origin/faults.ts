import type { ResponseKind } from "./egress.js";

export type FaultTarget = "segments" | "playlists" | "all";

export interface FaultRule {
  /** Client ids the rule applies to; every client when absent. */
  clients?: string[];
  /** Answer with this status instead of the content (e.g. 503). */
  status?: number;
  /** Hold the response this long before answering. */
  delayMs?: number;
  /** Wall-clock window (epoch ms) in which the rule is active; always when absent. */
  from?: number;
  until?: number;
  /** Which responses the rule hits; segments by default. */
  target?: FaultTarget;
}

export interface FaultDecision {
  status?: number;
  delayMs: number;
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
  if (rule.status === undefined && rule.delayMs === undefined) {
    throw new Error(`${where}: needs a status or a delayMs`);
  }
}

function targets(rule: FaultRule, kind: ResponseKind): boolean {
  const target = rule.target ?? "segments";
  if (target === "all") return true;
  return (target === "segments" && kind === "segment") || (target === "playlists" && kind === "playlist");
}

/** Combines every active rule that matches: the largest delay, the first error status. */
export function decideFault(
  rules: readonly FaultRule[],
  clientId: string,
  kind: ResponseKind,
  nowMs: number,
): FaultDecision {
  const decision: FaultDecision = { delayMs: 0 };
  for (const rule of rules) {
    if (rule.from !== undefined && nowMs < rule.from) continue;
    if (rule.until !== undefined && nowMs >= rule.until) continue;
    if (rule.clients && !rule.clients.includes(clientId)) continue;
    if (!targets(rule, kind)) continue;
    decision.delayMs = Math.max(decision.delayMs, rule.delayMs ?? 0);
    if (decision.status === undefined && rule.status !== undefined) decision.status = rule.status;
  }
  return decision;
}
