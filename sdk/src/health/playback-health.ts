/**
 * Whether this viewer's own playback is in trouble. A device that cannot keep its video going
 * (the buffer about to run dry, frames dropped, its timers firing late because the CPU is
 * saturated) must not spend what it has left on early CDN fetches and on serving other viewers:
 * both cost CPU and bandwidth, and serving makes it a slow source for its peers too. While
 * struggling it plays like a plain hls.js viewer; it serves again after a quiet spell.
 */

export type HealthReason = "buffer-low" | "frames-dropped" | "timers-late";

export interface PlaybackHealthConfig {
  /** How often the monitor samples, ms. Also the timer whose lateness is measured. */
  sampleMs: number;
  /** History the verdicts look at, ms. */
  windowMs: number;
  /** A sample this much later than due counts as late (the page's event loop is starved). */
  lateTimerMs: number;
  /** Late samples within the window that make the timers late. */
  lateSamples: number;
  /** Buffer ahead of the playhead under this many seconds, while playing, is trouble. */
  lowBufferSec: number;
  /** Share of frames dropped over the window (with at least `minFrames` shown) that is trouble. */
  droppedFrameShare: number;
  minFrames: number;
  /** Trouble-free time before this viewer fetches early and serves again, ms. */
  recoverMs: number;
}

/** What the monitor reads from the player; each reading may be missing (undefined). */
export interface PlaybackProbe {
  /** Seconds buffered ahead of the playhead while playing; undefined while not playing. */
  bufferAhead(): number | undefined;
  /** Frames dropped and shown so far (the media element's playback quality). */
  frames(): { dropped: number; total: number } | undefined;
  /** Whether the page is hidden (browsers slow hidden pages' timers on purpose). */
  hidden(): boolean;
}

export interface PlaybackHealthStats {
  /** `struggling`: early fetching and serving are paused until playback recovers. */
  state: "ok" | "struggling";
  /** What made this viewer struggle most recently (empty while ok). */
  reasons: HealthReason[];
  /** Times this viewer started struggling. */
  episodes: number;
  /** Milliseconds spent struggling in all. */
  struggledMs: number;
}

export class PlaybackHealth {
  private timer: ReturnType<typeof setInterval> | undefined;
  private dueAt = 0;
  private readonly lateAt: number[] = [];
  private readonly frameHistory: Array<{ at: number; dropped: number; total: number }> = [];
  private struggling = false;
  private reasons: HealthReason[] = [];
  private lastTroubleAt = 0;
  private struggleStartedAt = 0;
  private struggledMs = 0;
  private episodes = 0;

  constructor(
    private readonly config: PlaybackHealthConfig,
    private readonly probe: PlaybackProbe,
    private readonly onChange: (struggling: boolean, reasons: HealthReason[]) => void,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  start(): void {
    if (this.timer !== undefined) return;
    this.dueAt = this.clock() + this.config.sampleMs;
    this.timer = setInterval(() => this.sample(), this.config.sampleMs);
  }

  /** One sample; the timer calls it, tests may too. */
  sample(now = this.clock()): void {
    const found = new Set<HealthReason>();
    const buffer = this.probe.bufferAhead();
    // Only playback is judged: start-up (parsing, the first segments) keeps any page busy.
    const playing = buffer !== undefined;
    const late = now - this.dueAt;
    this.dueAt = now + this.config.sampleMs;
    if (playing && !this.probe.hidden() && late > this.config.lateTimerMs) this.lateAt.push(now);
    while (this.lateAt.length > 0 && this.lateAt[0] < now - this.config.windowMs) this.lateAt.shift();
    if (this.lateAt.length >= this.config.lateSamples) found.add("timers-late");

    if (playing && buffer < this.config.lowBufferSec) found.add("buffer-low");

    const frames = this.probe.frames();
    if (frames) {
      this.frameHistory.push({ at: now, ...frames });
      while (this.frameHistory.length > 1 && this.frameHistory[0].at < now - this.config.windowMs)
        this.frameHistory.shift();
      const oldest = this.frameHistory[0];
      const shown = frames.total - oldest.total;
      if (shown >= this.config.minFrames && (frames.dropped - oldest.dropped) / shown >= this.config.droppedFrameShare)
        found.add("frames-dropped");
    }

    if (found.size > 0) {
      this.lastTroubleAt = now;
      this.reasons = [...found];
      if (!this.struggling) {
        this.struggling = true;
        this.episodes++;
        this.struggleStartedAt = now;
        this.onChange(true, this.reasons);
      }
    } else if (this.struggling && now - this.lastTroubleAt >= this.config.recoverMs) {
      this.struggling = false;
      this.struggledMs += now - this.struggleStartedAt;
      this.reasons = [];
      this.onChange(false, []);
    }
  }

  stats(now = this.clock()): PlaybackHealthStats {
    return {
      state: this.struggling ? "struggling" : "ok",
      reasons: [...this.reasons],
      episodes: this.episodes,
      struggledMs: Math.round(this.struggledMs + (this.struggling ? now - this.struggleStartedAt : 0)),
    };
  }

  destroy(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}

export function healthOffStats(): PlaybackHealthStats {
  return { state: "ok", reasons: [], episodes: 0, struggledMs: 0 };
}
