/**
 * Added viewers: each one is this page in compact mode inside an iframe, a full player with its
 * own peer id. It posts its figures to the page that added it, which sums them into the chart.
 */
import type { SwarmcastStats } from "../../sdk/src/index";

const STATS = "swarmcast-demo:stats";
const SIZE = "swarmcast-demo:size";

type ViewerMessage =
  { type: typeof STATS; viewer: string; stats: SwarmcastStats } | { type: typeof SIZE; viewer: string; height: number };

function isViewerMessage(data: unknown): data is ViewerMessage {
  if (typeof data !== "object" || data === null) return false;
  const m = data as Partial<ViewerMessage> & { stats?: unknown; height?: unknown };
  if (typeof m.viewer !== "string") return false;
  if (m.type === STATS) return typeof m.stats === "object" && m.stats !== null;
  if (m.type === SIZE) return typeof m.height === "number" && Number.isFinite(m.height);
  return false;
}

function post(message: ViewerMessage): void {
  if (window.parent !== window) window.parent.postMessage(message, location.origin);
}

/** In an added viewer: sends this viewer's figures to the page that holds it. */
export function reportToParent(viewer: string, stats: SwarmcastStats): void {
  post({ type: STATS, viewer, stats });
}

/** In an added viewer: keeps the holding iframe as tall as this page's content. */
export function reportSizeToParent(viewer: string): void {
  if (window.parent === window) return;
  const send = () => post({ type: SIZE, viewer, height: Math.ceil(document.body.getBoundingClientRect().height) });
  new ResizeObserver(send).observe(document.body);
  send();
}

export interface ViewerEvents {
  stats(viewer: string, stats: SwarmcastStats): void;
  removed(viewer: string): void;
}

export class ViewerStrip {
  private next = 2;
  private readonly frames = new Map<string, { card: HTMLElement; frame: HTMLIFrameElement }>();

  constructor(
    private readonly container: HTMLElement,
    private readonly urlFor: (viewer: string) => string,
    private readonly events: ViewerEvents,
  ) {
    window.addEventListener("message", (event) => {
      if (event.origin !== location.origin || !isViewerMessage(event.data)) return;
      const message = event.data;
      const entry = this.frames.get(message.viewer);
      // Only frames this strip made may speak for a viewer.
      if (!entry || entry.frame.contentWindow !== event.source) return;
      if (message.type === STATS) this.events.stats(message.viewer, message.stats);
      else entry.frame.style.height = `${Math.min(2000, Math.max(60, message.height))}px`;
    });
  }

  get count(): number {
    return this.frames.size;
  }

  /** Adds a viewer and returns its label. */
  add(): string {
    const viewer = String(this.next++);
    const card = document.createElement("figure");
    card.className = "viewer";
    card.dataset.viewer = viewer;
    const caption = document.createElement("figcaption");
    const title = document.createElement("span");
    title.textContent = `Viewer ${viewer}`;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "icon";
    close.title = `Remove viewer ${viewer}`;
    close.setAttribute("aria-label", close.title);
    close.textContent = "×";
    close.addEventListener("click", () => this.remove(viewer));
    caption.append(title, close);
    const frame = document.createElement("iframe");
    frame.title = `Viewer ${viewer}`;
    frame.allow = "autoplay";
    frame.src = this.urlFor(viewer);
    card.append(caption, frame);
    this.container.append(card);
    this.frames.set(viewer, { card, frame });
    return viewer;
  }

  remove(viewer: string): void {
    const entry = this.frames.get(viewer);
    if (!entry) return;
    this.frames.delete(viewer);
    // Unloading the frame runs its pagehide handler, which destroys its player and leaves the swarm.
    entry.frame.src = "about:blank";
    entry.card.remove();
    this.events.removed(viewer);
  }
}
