import type { Browser, BrowserContext, CDPSession, Page } from "playwright-core";
import type { ViewerConfig, ViewerSnapshot, ViewerVersions } from "../pages/viewer.js";

export type { ViewerConfig, ViewerSnapshot, ViewerVersions };

/** How long one page call may take before the viewer counts as unresponsive. */
const CALL_TIMEOUT_MS = 15_000;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** One bench viewer: its own browser context (no shared cache, storage or connections) and page. */
export class BenchViewer {
  /** Snapshots taken so far, oldest first. */
  readonly samples: ViewerSnapshot[] = [];
  joinedAt = 0;
  leftAt: number | null = null;
  pageErrors = 0;
  /** Console messages of type error (failed requests included). */
  consoleErrorCount = 0;
  /** Snapshots that failed or timed out (a loaded machine, a crashed page). */
  sampleFailures = 0;
  private readonly consoleErrors: string[] = [];
  private context: BrowserContext | null = null;
  private page: Page | null = null;
  private cdp: CDPSession | null = null;

  constructor(
    readonly id: string,
    readonly slot: number,
  ) {}

  get present(): boolean {
    return this.page !== null && this.leftAt === null;
  }

  get last(): ViewerSnapshot | undefined {
    return this.samples[this.samples.length - 1];
  }

  async join(browser: Browser, pageUrl: string, config: ViewerConfig): Promise<ViewerVersions> {
    this.joinedAt = Date.now();
    this.context = await browser.newContext();
    const page = await this.context.newPage();
    page.on("pageerror", (error) => {
      this.pageErrors++;
      this.note(`page error: ${error.message}`);
    });
    page.on("crash", () => {
      this.pageErrors++;
      this.note("page crashed");
    });
    page.on("console", (message) => {
      if (message.type() !== "error") return;
      this.consoleErrorCount++;
      this.note(`console: ${message.text()}`);
    });
    await page.goto(pageUrl, { timeout: CALL_TIMEOUT_MS });
    let versions: ViewerVersions;
    try {
      versions = await withTimeout(
        page.evaluate((c) => window.benchViewer.start(c), config),
        CALL_TIMEOUT_MS,
        `${this.id}: start`,
      );
    } catch (error) {
      const message = cleanMessage(error);
      const hint = message.includes("SwarmcastOptionError")
        ? " (the SDK refused an option given by --sdk-config, --upload-cap, --live-sync or --live-sync-count)"
        : "";
      throw new Error(`viewer ${this.id} (${config.mode}) did not start: ${message}${hint}`);
    }
    this.page = page;
    return versions;
  }

  /** Takes and keeps a snapshot; undefined when the page did not answer in time. */
  async sample(): Promise<ViewerSnapshot | undefined> {
    if (!this.present || !this.page) return undefined;
    try {
      const snapshot = await withTimeout(
        this.page.evaluate(() => window.benchViewer.snapshot()),
        CALL_TIMEOUT_MS,
        `${this.id}: snapshot`,
      );
      this.samples.push(snapshot);
      return snapshot;
    } catch (error) {
      this.sampleFailures++;
      this.note(`snapshot failed: ${cleanMessage(error)}`);
      return undefined;
    }
  }

  /** Takes a last snapshot (unless told not to), then closes the page and its context. */
  /** Slows the page's CPU down `rate` times (CDP Emulation.setCPUThrottlingRate; 1 = off). */
  async throttleCpu(rate: number): Promise<void> {
    if (!this.page || !this.context) throw new Error(`viewer ${this.id}: not playing`);
    const session = await this.context.newCDPSession(this.page);
    await session.send("Emulation.setCPUThrottlingRate", { rate });
  }

  /** The page's JS heap in use, bytes (CDP Runtime.getHeapUsage); undefined when it did not answer. */
  async heapUsedBytes(): Promise<number | undefined> {
    if (!this.present || !this.page || !this.context) return undefined;
    try {
      this.cdp ??= await this.context.newCDPSession(this.page);
      const usage = await withTimeout(this.cdp.send("Runtime.getHeapUsage"), CALL_TIMEOUT_MS, `${this.id}: heap`);
      return usage.usedSize;
    } catch (error) {
      this.note(`heap usage failed: ${cleanMessage(error)}`);
      return undefined;
    }
  }

  async leave({ sample = true } = {}): Promise<void> {
    if (this.leftAt !== null) return;
    if (sample && this.present) await this.sample();
    this.leftAt = Date.now();
    const context = this.context;
    this.page = null;
    this.context = null;
    this.cdp = null;
    await context?.close().catch(() => undefined);
  }

  recentProblems(): string[] {
    return [...this.consoleErrors, ...(this.last?.recentErrors ?? [])].slice(-8);
  }

  private note(text: string): void {
    this.consoleErrors.push(text.slice(0, 300));
    if (this.consoleErrors.length > 5) this.consoleErrors.shift();
  }
}

/** Playwright prefixes page exceptions with call logs; keep the page's own text. */
function cleanMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/^page\.evaluate: /, "").split("\n")[0];
}
