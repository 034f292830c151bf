/**
 * Which peers a viewer keeps once its peer set is full. The tracker introduces peers at random,
 * and a full set refuses every later offer, so a viewer whose slots went to peers that neither
 * deliver to it nor take from it would never meet the ones that would. When the set is full, the
 * connection that moved the fewest bytes (both ways) over the last window is closed — if it is
 * old enough to have had its chance and quiet at that moment — and its slot goes to the next
 * peer the tracker introduces. One connection at most per check, so the set turns over slowly
 * and the peers that carry the stream stay.
 */

export interface PeerChoiceConfig {
  /** How often a full peer set is checked, ms. */
  intervalMs: number;
  /** Bytes a connection moved count over this window, ms. */
  windowMs: number;
  /** A connection younger than this is kept: it has not had its chance to deliver yet. */
  minAgeMs: number;
  /** A connection that moved bytes this recently is kept: a transfer may be running on it. */
  quietMs: number;
  /** Slots kept open for peers the tracker introduces: with fewer free, the least useful goes. */
  freeSlots: number;
}

export interface ConnectionUse {
  openedAt: number;
  /** Bytes received from and sent to the peer over the last `windowMs`. */
  recentBytes: number;
  /** When the connection last moved a byte; undefined: never. */
  lastActiveAt: number | undefined;
}

/**
 * The connection to close so a better peer can take its slot, or undefined: the set has room,
 * or every connection is too young or busy.
 */
export function connectionToDrop<K>(
  connections: ReadonlyMap<K, ConnectionUse>,
  maxConnections: number,
  now: number,
  config: PeerChoiceConfig,
): K | undefined {
  if (connections.size < maxConnections - config.freeSlots + 1) return undefined;
  let chosen: K | undefined;
  let fewest = Infinity;
  for (const [key, use] of connections) {
    if (now - use.openedAt < config.minAgeMs) continue;
    if (use.lastActiveAt !== undefined && now - use.lastActiveAt < config.quietMs) continue;
    if (use.recentBytes < fewest) {
      fewest = use.recentBytes;
      chosen = key;
    }
  }
  return chosen;
}
