/** The `upload` option: `"auto"` decides from the device, `true` / `false` override. */
export type UploadMode = boolean | "auto";

export const UPLOAD_MODES: readonly UploadMode[] = ["auto", true, false];

/** The parts of the Network Information API read here (Chromium, Android). */
interface NetworkInformationLike extends EventTarget {
  saveData?: boolean;
  type?: string;
}

/** The parts of the Battery Status API read here. */
interface BatteryLike extends EventTarget {
  charging: boolean;
  level: number;
}

/** Where the device facts come from; `navigator` in a browser. */
export interface DeviceFacts {
  connection?: NetworkInformationLike;
  getBattery?: () => Promise<BatteryLike>;
}

/** Why `"auto"` holds uploads back, or null when it does not. */
export type UploadWithheldReason = "save-data" | "cellular" | "low-battery" | null;

/**
 * Decides whether this viewer may upload under `upload: "auto"`: not while the browser says
 * the user asked to save data or the link is cellular, nor while the battery discharges under
 * `minBatteryLevel`. Re-decides on the APIs' change events; where an API is missing, it does
 * not hold uploads back. Until the battery has answered, uploads wait.
 */
export class UploadConsent {
  private battery: BatteryLike | undefined;
  private batteryPending: boolean;
  private current: UploadWithheldReason;
  private destroyed = false;

  constructor(
    private readonly mode: UploadMode,
    private readonly minBatteryLevel: number,
    private readonly onChange: (allowed: boolean, reason: UploadWithheldReason) => void,
    private readonly device: DeviceFacts = (globalThis.navigator ?? {}) as DeviceFacts,
  ) {
    this.batteryPending = mode === "auto" && typeof device.getBattery === "function";
    this.current = this.evaluate();
    if (mode !== "auto") return;
    device.connection?.addEventListener?.("change", this.update);
    if (this.batteryPending) {
      device.getBattery!.call(device).then(
        (battery) => {
          if (this.destroyed) return;
          battery.addEventListener("chargingchange", this.update);
          battery.addEventListener("levelchange", this.update);
          this.update(() => {
            this.battery = battery;
            this.batteryPending = false;
          });
        },
        () => this.update(() => (this.batteryPending = false)),
      );
    }
  }

  /** Whether uploads are allowed now. */
  get allowed(): boolean {
    return this.mode === true || (this.mode === "auto" && !this.batteryPending && this.current === null);
  }

  get reason(): UploadWithheldReason {
    return this.current;
  }

  destroy(): void {
    this.destroyed = true;
    this.device.connection?.removeEventListener?.("change", this.update);
    this.battery?.removeEventListener("chargingchange", this.update);
    this.battery?.removeEventListener("levelchange", this.update);
  }

  /** Re-decides after `learn` (if given) took in new facts; tells `onChange` when the verdict flips. */
  private readonly update = (learn?: unknown): void => {
    if (this.destroyed) return;
    const before = this.allowed;
    if (typeof learn === "function") (learn as () => void)();
    this.current = this.evaluate();
    if (this.allowed !== before) this.onChange(this.allowed, this.current);
  };

  private evaluate(): UploadWithheldReason {
    if (this.mode !== "auto") return null;
    const connection = this.device.connection;
    if (connection?.saveData === true) return "save-data";
    if (connection?.type === "cellular") return "cellular";
    const battery = this.battery;
    if (battery && !battery.charging && battery.level < this.minBatteryLevel) return "low-battery";
    return null;
  }
}
