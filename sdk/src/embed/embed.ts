import { readEmbedOptions } from "./attributes";
import { attach, getPlayer, type SwarmcastPlayer } from "../player/player";

/** Attribute that marks a media element for the zero-code embed. */
export const EMBED_SELECTOR = "video[data-swarmcast-src], audio[data-swarmcast-src]";

/**
 * Attaches a player to every `<video data-swarmcast-src>` under `root` that has none yet and
 * returns the players of all matching elements. An element with bad attributes is skipped
 * and its error logged, so one typo does not stop the other players.
 */
export function attachAll(root: ParentNode = document): SwarmcastPlayer[] {
  const players: SwarmcastPlayer[] = [];
  for (const el of root.querySelectorAll<HTMLMediaElement>(EMBED_SELECTOR)) {
    const existing = getPlayer(el);
    if (existing) {
      players.push(existing);
      continue;
    }
    try {
      players.push(attach(el, readEmbedOptions(el)));
    } catch (err) {
      console.error("Swarmcast: could not attach", el, err);
    }
  }
  return players;
}

/** Runs {@link attachAll} once the document is parsed. */
export function attachAllWhenReady(): void {
  if (typeof document === "undefined") return;
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => attachAll(), { once: true });
  } else {
    attachAll();
  }
}
