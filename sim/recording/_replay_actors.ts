/**
 * The actors a replay feeds: a fresh host in this thread (on an InProcessBus, with a journal
 * compacted at each snapshot and an in-memory snapshot store), hosts on worker threads (see
 * _replay_threads.ts), or a live cluster's bus. Each is an InputSink the reading hands inputs to;
 * their outputs go to the reading's `onOutput` (or, counted only, `onCount`).
 */
import {
  type AnyActorDefinition,
  Host,
  InProcessBus,
  RecordedSkips,
  RecordedTicks,
} from "../../actors/runtime/mod.ts";
import {
  type Bus,
  type CapturedInstance,
  findingOutputSubject,
  type FrameLimits,
  SUBJECT_ROOT,
} from "../../protocol/mod.ts";
import { inspectInstance, type ReplayInspection } from "./_replay_inspect.ts";
import { CompactingSnapshots, ReplayJournal } from "./_replay_journal.ts";
import type { InputSink, ReplayReading } from "./_replay_reading.ts";
import { ReplayThreads } from "./_replay_threads.ts";
import { readRecordedHostActs } from "./_recorded_host_acts.ts";

/** Snapshots (and with them journal compaction) every this many inputs per instance. */
const SNAPSHOT_EVERY_INPUTS = 256;

/** What `startActors` needs. */
export interface ReplayActorsOptions {
  path: string;
  kinds: string[];
  registry: Readonly<Record<string, AnyActorDefinition>>;
  registryModule: string | undefined;
  /** Per kind, the configuration to run it with. */
  config: Record<string, unknown>;
  limits: FrameLimits & { channelsMax?: number };
  /** Worker threads (1: a host in this thread). */
  threads: number;
  /** A live cluster's bus, instead of actors here. */
  bus: Bus | undefined;
  /** Whether each output's bytes are wanted (else they are counted). */
  outputBytes: boolean;
  reading: ReplayReading;
  /** The actors' state at the recording's start (its start section), by stream: loaded first. */
  start: ReadonlyMap<string, CapturedInstance> | undefined;
  log(message: string): void;
}

/** The actors of one replay. */
export interface ReplayActors {
  sink: InputSink;
  /** Worker threads the actors run on; 0: in this thread, or in a live cluster. */
  threads: number;
  /** Dead letters published by the actors. */
  deadLetters(): number;
  /** The live host's ticks the recording holds, and how many of them were applied. */
  ticks(): { recorded: number; placed: number };
  /** Ends the replay (flushed before) and finds `which`, where actors ran here or on threads. */
  finish(
    which: { kind: string; key: string } | undefined,
  ): Promise<ReplayInspection | { streams: string[] } | undefined>;
  close(): Promise<void>;
}

/** Starts the actors a replay feeds. */
export async function startActors(o: ReplayActorsOptions): Promise<ReplayActors> {
  if (o.bus) return onBus(o.bus, o.reading, undefined);
  // What the recording says its live host skipped is skipped again, and the ticks it applied are
  // applied (_recorded_host_acts.ts).
  const { skips, ticks } = await readRecordedHostActs(o.path, o.log);
  if (o.threads > 1) {
    const pool = await ReplayThreads.start({
      threads: o.threads,
      path: o.path,
      kinds: o.kinds,
      registry: o.registry,
      registryModule: o.registryModule,
      config: o.config,
      limits: o.limits,
      snapshotEveryInputs: SNAPSHOT_EVERY_INPUTS,
      skips,
      ticks,
      outputs: o.outputBytes ? "bytes" : "count",
      onOutput: o.reading.onOutput,
      onCount: o.reading.onCount,
      log: o.log,
    });
    return {
      sink: pool,
      threads: pool.threads,
      deadLetters: () => pool.deadLetters,
      ticks: () => ({ recorded: ticks.length, placed: pool.ticksPlaced }),
      finish: (which) => pool.finish(which),
      close: () => pool.close(),
    };
  }
  const bus = new InProcessBus();
  const journal = new ReplayJournal();
  const snapshots = new CompactingSnapshots(journal);
  for (const inst of o.start?.values() ?? []) {
    if (!o.kinds.includes(inst.stream.slice(0, inst.stream.indexOf("/")))) continue;
    journal.seat(inst.stream, inst.pos);
    await snapshots.save({
      stream: inst.stream,
      version: inst.version,
      pos: inst.pos,
      machine: { xstate: inst.machine, config: inst.config, ids: inst.ids },
      kernel: inst.kernel,
      // The replay's inputs come from a bus without source positions.
      meta: { srcPos: 0 },
    });
  }
  const recordedTicks = new RecordedTicks(ticks);
  const host = new Host({
    hostId: "replay",
    bus,
    actors: o.kinds.map((k) => o.registry[k]!),
    config: o.config,
    journal,
    snapshots,
    limits: o.limits,
    snapshotEveryInputs: SNAPSHOT_EVERY_INPUTS,
    snapshotEveryMs: 3_600_000,
    recordedSkips: new RecordedSkips(skips),
    recordedTicks,
    log: o.log,
  });
  await host.start();
  const ticksOf = () => ({ recorded: ticks.length, placed: recordedTicks.placed });
  return onBus(bus, o.reading, host, ticksOf);
}

/**
 * Inputs published on `bus`, outputs taken from it; `host`, when it is ours, stopped at the end.
 * A live cluster's hosts tick on their own: a recording's ticks are not theirs to apply.
 */
function onBus(
  bus: Bus,
  reading: ReplayReading,
  host: Host | undefined,
  ticks = () => ({ recorded: 0, placed: 0 }),
): ReplayActors {
  let deadLetters = 0;
  const subs = [
    bus.subscribe(`${SUBJECT_ROOT}.out.>`, (msg) => reading.onOutput(msg.subject, msg.data)),
    // A finding is an output, keyed by its actor's output subject as a recording's are.
    bus.subscribe(`${SUBJECT_ROOT}.finding.>`, (msg) => {
      const subject = findingOutputSubject(msg.subject);
      if (subject !== undefined) reading.onOutput(subject, msg.data);
    }),
    bus.subscribe(`${SUBJECT_ROOT}.dlq.>`, () => deadLetters++),
  ];
  return {
    sink: {
      publish: (_area, subject, data) => bus.publish(subject, data),
      breathe: () => bus.flush(),
      flush: () => bus.flush(),
    },
    threads: 0,
    deadLetters: () => deadLetters,
    ticks,
    finish: (which) => Promise.resolve(which && host ? inspectInstance(host, which) : undefined),
    close: async () => {
      for (const sub of subs) sub.unsubscribe();
      if (host) {
        await host.stop();
        await bus.close();
      }
    },
  };
}
