/**
 * A host's answer to "what do you apply now?": its settings report (protocol/settings_report.ts),
 * published when `troupe.sys.settings.query` asks and after each control message it applies. A
 * dashboard that opens late, or whose settings were changed by `troupe ctl` rather than through
 * the session document, learns the settings in force from it rather than from what was asked.
 */
import {
  type AnyActorDefinition,
  type AppliedSettings,
  type Bus,
  type BusSubscription,
  encodeSettingsReport,
  settingsQuerySubject,
  type SettingsReport,
  settingsReportSubject,
} from "../../../protocol/mod.ts";
import type { Slot } from "../instances/mod.ts";

/** What the reporter reads of its host. */
export interface SettingsReporterOptions {
  hostId: string;
  bus: Bus;
  /** Milliseconds since the Unix epoch. */
  now(): number;
  kinds: ReadonlyMap<string, AnyActorDefinition>;
  /** Each kind's current configuration. */
  configs: ReadonlyMap<string, unknown>;
  slots(): Iterable<Slot>;
  log(message: string): void;
}

/** The configuration an instance will have once it applies a control message queued to it. */
export interface AppliedChange {
  kind: string;
  key: string;
  config: unknown;
}

/** Builds and publishes a host's settings reports. */
export class SettingsReporter {
  readonly #options: SettingsReporterOptions;

  constructor(options: SettingsReporterOptions) {
    this.#options = options;
  }

  /**
   * What the host applies now. `changes` are the configurations a control message just queued
   * gives its instances: each takes it when its mailbox reaches it, and the report already says so.
   */
  report(changes: readonly AppliedChange[] = []): SettingsReport {
    const kinds: Record<string, AppliedSettings> = {};
    const keys: Record<string, Record<string, AppliedSettings>> = {};
    for (const kind of this.#options.kinds.keys()) {
      kinds[kind] = asSettings(this.#options.configs.get(kind));
    }
    const put = (kind: string, key: string, config: unknown) => {
      const settings = asSettings(config);
      const perKey = keys[kind] ?? {};
      if (sameSettings(settings, kinds[kind])) delete perKey[key];
      else perKey[key] = settings;
      if (Object.keys(perKey).length > 0) keys[kind] = perKey;
      else delete keys[kind];
    };
    for (const slot of this.#options.slots()) {
      // A dormant instance's configuration is its snapshot's: read there, not restored for it.
      const at = slot.dormant?.snap ?? slot.awake;
      if (at !== undefined && slot.status !== "stopped") put(slot.def.kind, slot.key, at.config);
    }
    for (const c of changes) put(c.kind, c.key, c.config);
    return { host: this.#options.hostId, atMs: Math.round(this.#options.now()), kinds, keys };
  }

  /** Publishes the report (after a control message, or when asked). */
  publish(changes?: readonly AppliedChange[]): void {
    try {
      this.#options.bus.publish(
        settingsReportSubject(),
        encodeSettingsReport(this.report(changes)),
      );
    } catch (err) {
      this.#options.log(`cannot publish the settings report: ${(err as Error).message}`);
    }
  }

  /** Answers queries from now on; the subscription returned also ends `alongside`. */
  listen(alongside: BusSubscription): BusSubscription {
    const sub = this.#options.bus.subscribe(settingsQuerySubject(), () => this.publish());
    return {
      unsubscribe: () => {
        sub.unsubscribe();
        alongside.unsubscribe();
      },
    };
  }
}

function asSettings(config: unknown): AppliedSettings {
  return config !== null && typeof config === "object" && !Array.isArray(config)
    ? { ...(config as AppliedSettings) }
    : {};
}

function sameSettings(a: AppliedSettings, b: AppliedSettings | undefined): boolean {
  return b !== undefined && JSON.stringify(a) === JSON.stringify(b);
}
