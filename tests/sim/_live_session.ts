/**
 * A live session recorded on an in-process bus, as the replay suites set it up: a host of the
 * kinds given, on a memory journal and snapshot store, beside a recorder whose clock ticks 1 ms a
 * message from `LIVE_START_US`, so receive times are exact; the suite publishes the session.
 */
import { Host } from "../../actors/runtime/host/host.ts";
import { InProcessBus } from "../../actors/runtime/transport/in_process_bus.ts";
import { MemoryJournal } from "../../actors/runtime/journal/memory_journal.ts";
import { MemorySnapshotStore } from "../../actors/runtime/snapshots/memory_snapshot_store.ts";
import {
  type AnyActorDefinition,
  encodeFrame,
  feedSubject,
  type SampleFrame,
} from "../../protocol/mod.ts";
import {
  Recorder,
  type RecorderSummary,
  type RecordingHeaderInit,
} from "../../sim/recording/mod.ts";

/** The recorder's clock before the session's first message, in µs. */
export const LIVE_START_US = 1_704_067_200_000_000;
/** How far the recorder's clock moves a message, in µs. */
export const LIVE_TICK_US = 1000;

/** The host of a live session and what the recording's header says beyond it. */
export interface LiveSessionOptions {
  actors: readonly AnyActorDefinition[];
  /** The actors' config, given to the host and written in the header. */
  config: Record<string, unknown>;
  /** The header's fields over `source: "test"` and the actors' config. */
  header?: Partial<RecordingHeaderInit>;
}

/**
 * Records to `path` what `drive` publishes on the session's bus while the host runs; the host is
 * stopped before the recorder, so its last outputs are recorded.
 */
export async function recordLiveSession(
  path: string,
  options: LiveSessionOptions,
  drive: (bus: InProcessBus) => Promise<void>,
): Promise<RecorderSummary> {
  const bus = new InProcessBus();
  let now = LIVE_START_US;
  const rec = Recorder.start(bus, {
    path,
    header: { source: "test", config: { actors: options.config }, ...options.header },
    clock: { now: () => (now += LIVE_TICK_US) },
  });
  const host = new Host({
    hostId: "live",
    bus,
    actors: options.actors,
    config: options.config,
    journal: new MemoryJournal(),
    snapshots: new MemorySnapshotStore(),
    log: () => {},
  });
  await host.start();
  await drive(bus);
  await host.stop();
  return rec.stop();
}

/** Publishes `frames` on the feed subjects of `domain`, each with an id `<src>:<channel>:<seq0>`. */
export function publishFrames(
  bus: InProcessBus,
  frames: readonly SampleFrame[],
  options: { domain: string; src: string },
): void {
  for (const f of frames) {
    bus.publish(
      feedSubject(options.domain, f.channel),
      encodeFrame(f, { id: `${options.src}:${f.channel}:${f.seq0}`, src: options.src }),
    );
  }
}
