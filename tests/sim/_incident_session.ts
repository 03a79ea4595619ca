/**
 * The recorded live session of the incident replay suites: a host of anomaly and collapse over 8
 * market symbols with crashes, the incident stage beside it, 120 steps of frames on the bus.
 */
import { ACTOR_KINDS } from "../../actors/mod.ts";
import {
  defaultIncidentConfig,
  type IncidentConfig,
  runIncidentStage,
} from "../../actors/incidents/mod.ts";
import { Host } from "../../actors/runtime/host/host.ts";
import { InProcessBus } from "../../actors/runtime/transport/in_process_bus.ts";
import { MemoryJournal } from "../../actors/runtime/journal/memory_journal.ts";
import { MemorySnapshotStore } from "../../actors/runtime/snapshots/memory_snapshot_store.ts";
import { createMarketFeed } from "../../sim/feeds/mod.ts";
import { demoActorConfigs } from "../../sim/mod.ts";
import { Recorder, type RecorderSummary } from "../../sim/recording/mod.ts";
import { publishFrames } from "./_live_session.ts";

/** The event time of the session's first sample, in µs. */
export const SESSION_START_US = 1_704_067_200_000_000;
const INTERVAL_US = 10_000;
const KINDS = ["anomaly", "collapse"];

/** How `recordIncidentSession` runs the session. */
export interface IncidentSessionOptions {
  /** The stage's settings; the defaults where not given. */
  stageConfig?: IncidentConfig;
  /** The incident settings the recording's header says the stage ran with; the stage's if not given. */
  headerConfig?: Record<string, unknown>;
  /**
   * Runs before each step's frames are published, with the step and the session's bus; awaited
   * only where it returns a promise, so that the other steps run as in a session without it.
   */
  beforeStep?: (step: number, bus: InProcessBus) => Promise<void> | undefined;
  /**
   * Runs after each step's frames are published and before the host has applied them (a message
   * published here is recorded ahead of the step's findings, as from a host behind its feed).
   */
  afterFrames?: (step: number, bus: InProcessBus) => void;
  /** False: the header names no kinds' configuration (replay takes them from the outputs). */
  headerActors?: false;
}

/** Records the session to `path`. */
export async function recordIncidentSession(
  path: string,
  options: IncidentSessionOptions = {},
): Promise<RecorderSummary> {
  const stageConfig = options.stageConfig ?? defaultIncidentConfig;
  const headerConfig = options.headerConfig ?? { ...stageConfig };
  const bus = new InProcessBus();
  const demo = demoActorConfigs(INTERVAL_US);
  const config = Object.fromEntries(KINDS.map((k) => [k, demo[k] ?? {}]));
  let now = SESSION_START_US;
  const rec = Recorder.start(bus, {
    path,
    header: {
      source: "test",
      config: options.headerActors === false
        ? { incidents: headerConfig }
        : { actors: config, incidents: headerConfig },
    },
    clock: { now: () => (now += 1000) },
  });
  const host = new Host({
    hostId: "live",
    bus,
    actors: KINDS.map((k) => ACTOR_KINDS[k]!),
    config,
    journal: new MemoryJournal(),
    snapshots: new MemorySnapshotStore(),
    log: () => {},
  });
  await host.start();
  const stage = runIncidentStage(bus, { config: stageConfig });
  const feed = createMarketFeed({
    symbols: 8,
    seed: 3,
    batch: 50,
    volume: false,
    startUs: SESSION_START_US,
    intervalUs: INTERVAL_US,
    crashRate: 1e-3,
  });
  for (let step = 0; step < 120; step++) {
    const before = options.beforeStep?.(step, bus);
    if (before) await before;
    publishFrames(bus, feed.next(), { domain: "market", src: "t" });
    options.afterFrames?.(step, bus);
    await bus.flush();
  }
  await host.stop();
  await bus.flush();
  stage.stop();
  return rec.stop();
}
