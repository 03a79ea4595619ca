/**
 * The actor host: runs actor instances of the kinds it is given, for the partitions it owns.
 *
 * An input (a sample frame on `troupe.feed.<feed>.<channel>`, a control message on
 * `troupe.ctl.<kind>[.<key>]`) is validated once at the edge (failures go to the dead letters),
 * routed to the instances that consume it, journaled to each instance's stream, then applied:
 * kernel step, one machine event, outputs published with ids derived from the input's id. An
 * instance is created on its first input; its first journal record is its starting configuration,
 * so its state is always the fold of its journal. Snapshots are taken every N inputs or T ms, after
 * the journal is synced up to them; recovery loads the newest snapshot of each instance and replays
 * the journal past it, in one pass. An instance whose kernel or machine throws is restarted from
 * snapshot and journal with exponential backoff; an input that fails it `inputFailuresMax` times is
 * recorded as skipped, sent to `troupe.dlq.apply` and the instance moves on; an instance that fails
 * `failuresMax` times in `failureWindowMs` is stopped and reported. Nothing but a bug in the host
 * itself stops the host.
 */
import type { Server } from "node:http";
import {
  type AnyActorDefinition,
  type Bus,
  type BusMessage,
  type BusSubscription,
  decodeFrame,
  encodeInputRecord,
  seedRecord,
  SUBJECT_ROOT,
} from "../../../protocol/mod.ts";
import {
  type ActorInstance,
  containedTimers,
  DEFAULT_SUPERVISION,
  type FrameDecoder,
  type HostLimits,
  type HostTimers,
  InputRejectedError,
  lastFrameDecoder,
  type Pending,
  positionsOf,
  REAL_TIMERS,
  replayDecoded,
  type Slot,
  type StageTrace,
  type Status,
  streamOf,
  type SupervisionOptions,
} from "../instances/mod.ts";
import {
  coreInput,
  EdgeDecisions,
  type EdgeInput,
  FeedEdge,
  type InputSource,
  journaledThroughOf,
  reasonOf,
  traceEdge,
} from "../edge/mod.ts";
import { closeServer, HostMetrics, serveHostHttp, serverPort } from "../operations/mod.ts";
import { HostNotices } from "./host_notices.ts";
import {
  type ControlHost,
  ControlRefusals,
  onKeptControl,
  onLiveControl,
  SettingsReporter,
  type SettingsReporterOptions,
} from "../control/mod.ts";
import { type HostHealth, hostHealth, ProgressWatch, refreshGauges } from "./liveness.ts";
import { hostLimits, type HostOptions, kindConfigs, snapshotPayoff } from "./host_options.ts";
import { type Journal, planLossRebuild } from "../journal/mod.ts";
import { JournalWrites } from "./_journal_writes.ts";
import { partitionOf } from "./partition.ts";
import { Recovery, type RecoveryAccess, Snapshotter } from "../recovery/mod.ts";
import { roundPeriodMs, snapshotRound, type SnapshotRoundParts } from "./snapshot_round.ts";
import { Mailboxes } from "./mailboxes.ts";
import { SlotPump } from "./slot_pump.ts";
import { LiveApply } from "./apply_live.ts";
import { recoverAtStart } from "./recover_at_start.ts";
import { anyPumping, InputThrough } from "./input_through.ts";
import { Ticker } from "./ticker.ts";
import { PeriodicRounds } from "./periodic_rounds.ts";
import { onInstanceFailed, onJournalConflict, type RestartParts } from "./restarts.ts";
import { listenStateCaptures, type StateCaptureParts } from "./state_capture_answer.ts";

/** An actor host. */
export class Host {
  readonly options: HostOptions;
  readonly metrics: HostMetrics;
  readonly #bus: Bus;
  readonly #journal: Journal;
  readonly #writes: JournalWrites;
  readonly #kinds = new Map<string, AnyActorDefinition>();
  readonly #configs: Map<string, unknown>;
  readonly #mail: Mailboxes;
  readonly #pumps: SlotPump;
  readonly #slots: Map<string, Slot>;
  readonly #owned: Set<number>;
  readonly #partitionCount: number;
  readonly #sup: SupervisionOptions;
  readonly #limits: HostLimits;
  readonly #now: () => number;
  readonly #log: (message: string) => void;
  readonly #input: InputSource;
  readonly #edge: FeedEdge;
  /** Decodes journaled frames for replay (the simulator's, or one shared by a frame's kinds). */
  readonly #decodeReplay: FrameDecoder;
  readonly #timers: HostTimers;
  readonly #snapshotter: Snapshotter;
  readonly #snapshotRound: SnapshotRoundParts;
  readonly #recovery: Recovery;
  readonly #progress = new ProgressWatch();
  readonly #ctlHost: ControlHost;
  readonly #settings: SettingsReporter;
  readonly #notices: HostNotices;
  readonly #restartParts: RestartParts;
  readonly #ticker: Ticker;
  #ctlSub: BusSubscription | undefined;
  /** State captures asked by a recorder started mid-session (state_capture_answer.ts). */
  #captureSub: BusSubscription | undefined;
  /** What the host's parts (edge, control, restarts, ticker, settings, captures) see of it. */
  readonly #view: SettingsReporterOptions & StateCaptureParts;
  #rounds: PeriodicRounds | undefined;
  #http: Server | undefined;
  /** Channels admitted and inputs dead-lettered, journaled (see edge_decisions.ts). */
  readonly #decisions: EdgeDecisions;
  /** How far the input is journaled: noted with the decisions (input_through.ts). */
  readonly #through: InputThrough;
  #ready = false;
  #closing = false;
  /** The error that stopped the host (its journal cannot be written), if one did. */
  #fatal: Error | undefined;
  /** Inputs applied, by kind (a cheap counter for tests and benchmarks). */
  readonly applied: Map<string, number>;
  /** Inputs applied live: their outputs published, their counts (apply_live.ts). */
  readonly #live: LiveApply;
  /** The stage trace, when one is on (see stage_trace.ts). */
  readonly #trace: StageTrace | undefined;

  constructor(options: HostOptions) {
    this.options = options;
    this.#trace = options.stageTrace;
    this.#bus = options.bus;
    this.#journal = options.journal;
    this.#writes = this.#journalWrites();
    this.#now = options.now ?? (() => performance.timeOrigin + performance.now());
    this.#log = options.log ?? ((m) => console.error(`[${options.hostId}] ${m}`));
    this.#timers = options.timers ?? containedTimers(REAL_TIMERS, (line) => this.#log(line));
    this.#sup = { ...DEFAULT_SUPERVISION, ...options.supervision };
    this.#limits = hostLimits(options);
    this.#partitionCount = options.partitions?.count ?? 1;
    this.#owned = new Set(options.partitions?.owned ?? [...Array(this.#partitionCount).keys()]);
    this.metrics = new HostMetrics({ host: options.hostId });
    for (const def of options.actors) this.#kinds.set(def.kind, def);
    this.#configs = kindConfigs(options.actors, options.config);
    this.#view = {
      hostId: options.hostId,
      bus: this.#bus,
      now: this.#now,
      timers: this.#timers,
      kinds: this.#kinds,
      configs: this.#configs,
      slots: () => this.#slots.values(),
      log: this.#log,
    };
    this.#notices = new HostNotices({
      ...this.#view,
      metrics: this.metrics,
      ...(options.answerers ? { answerers: options.answerers } : {}),
    });
    this.#input = options.input ?? coreInput(this.#bus);
    const { hostId } = options, limits = this.#limits;
    this.#decisions = new EdgeDecisions({ hostId, journal: this.#journal, log: this.#log, limits });
    this.#pumps = new SlotPump({
      hostId: options.hostId,
      configs: this.#configs,
      append: (s, bytes, memo) => this.#writes.append(s, bytes, memo),
      apply: (slot, item, pos) => this.#live.apply(slot, item, pos),
      ...(this.#journal.appendMany && options.journalRuns !== false && {
        appendMany: (s, records) => this.#writes.appendMany(s, records),
      }),
      fatal: (err) => this.#stopOnFatal(err),
      conflict: (slot, err) => {
        if (this.#fatal === undefined) onJournalConflict(slot, err, this.#restartParts);
      },
      timers: this.#timers,
      retryMs: this.#sup.backoffMsBase,
      log: this.#log,
      trace: this.#trace,
    });
    this.#mail = new Mailboxes({
      metrics: this.metrics,
      mailboxMax: this.#limits.mailboxMax,
      append: (s, bytes, memo) => this.#writes.append(s, bytes, memo),
      reject: (slot, item, err) => this.#reject(slot, item, err),
      pump: (slot) => this.#pumps.pump(slot),
    });
    this.#slots = this.#mail.slots;
    this.#edge = this.#feedEdge();
    this.metrics.watchGaps(this.#edge.gaps);
    this.metrics.watchChannels(() => this.#edge.channelFigures());
    this.#decodeReplay = options.frameDecoders?.({}) ?? lastFrameDecoder();
    this.#snapshotter = this.#newSnapshotter();
    this.#snapshotRound = this.#snapshotRoundParts();
    this.#live = this.#liveApply();
    this.applied = this.#live.applied;
    this.#recovery = new Recovery(this.#recoveryAccess());
    const maxAgeMs = snapshotPayoff(options).maxAgeMs;
    this.#through = new InputThrough(this.#slots, this.#recovery.held, maxAgeMs);
    this.#restartParts = this.#restartsHost();
    this.#settings = new SettingsReporter(this.#view);
    this.#ctlHost = this.#controlHost();
    this.#ticker = new Ticker({
      ...this.#view,
      slots: () => this.#mail.tickSlots.values(),
      everyMs: options.tickEveryMs ?? 0,
      enqueue: (slot, item) => this.#mail.enqueueFor(slot, item),
    });
  }

  /** The journal's writes, which stop the host where the journal cannot be written. */
  #journalWrites(): JournalWrites {
    return new JournalWrites({
      journal: this.#journal,
      stopped: () => this.#fatal !== undefined,
      fatal: (err) => this.#stopOnFatal(err),
    });
  }

  /** The feed edge: where a feed message becomes an input (decode, validate, route). */
  #feedEdge(): FeedEdge {
    const limits = this.#limits;
    return new FeedEdge({
      ...this.#view,
      owns: (key) => this.#owns(key),
      limits,
      decode: this.options.frameDecoders?.(limits) ?? ((bytes) => decodeFrame(bytes, limits)),
      decisions: this.#decisions,
      refuse: (frame, err) => this.#notices.deadLetter(frame, err),
      srcPosApplied: (stream) => positionsOf(this.#slots.get(stream)).srcPos,
    });
  }

  #newSnapshotter(): Snapshotter {
    const { compactEveryMs } = this.options;
    return new Snapshotter({
      journal: this.#journal,
      store: this.options.snapshots,
      metrics: this.metrics,
      log: this.#log,
      now: this.#now,
      ...(compactEveryMs === undefined ? {} : { compactEveryMs }),
      closing: () => this.#closing,
      extra: () =>
        this.#through.edgeSnapshot(this.#decisions, this.#edge.firstFrameTaken, this.#now()),
      extraSaved: (snap) => this.metrics.inputJournaledThrough.set(journaledThroughOf(snap)),
      ...snapshotPayoff(this.options),
    });
  }

  #snapshotRoundParts(): SnapshotRoundParts {
    return {
      snapshotter: this.#snapshotter,
      timers: this.#timers,
      stopped: () => this.#closing || this.#fatal !== undefined,
      instances: () => this.#slots.size,
    };
  }

  #liveApply(): LiveApply {
    return new LiveApply({
      bus: this.#bus,
      metrics: this.metrics,
      snapshotter: this.#snapshotter,
      trace: this.#trace,
      msgIdHeaders: this.options.msgIdHeaders === true,
      snapshotEveryInputs: this.options.snapshotEveryInputs ?? 1000,
      waiting: (slot) => this.#mail.gauges.noteWaiting(slot),
      steps: this.options,
      append: (s, bytes, memo) => this.#writes.append(s, bytes, memo),
      decisions: this.#decisions,
      notices: this.#notices,
      failed: (slot, err, pos) => onInstanceFailed(slot, err, pos, this.#restartParts),
      log: this.#log,
    });
  }

  /** What a failed instance's restart works with (restarts.ts). */
  #restartsHost(): RestartParts {
    return {
      ...this.#view,
      supervision: this.#sup,
      metrics: this.metrics,
      notices: this.#notices,
      journalWaiting: (slot, item) => this.#mail.journalWaiting(slot, item),
      rebuild: (slot) => this.#recovery.restart(slot),
      statusMoved: (slot) => this.#mail.gauges.noteStatus(slot),
      reload: (stream) => this.#journal.prepare?.(stream) ?? Promise.resolve(),
    };
  }

  /** What recovery may touch: this host's journal, slots and supervision. */
  #recoveryAccess(): RecoveryAccess {
    return {
      journal: this.#journal,
      snapshotter: this.#snapshotter,
      supervision: this.#sup,
      metrics: this.metrics,
      log: this.#log,
      kinds: this.#kinds,
      slots: this.#slots,
      owns: (key) => this.#owns(key),
      slot: (def, key, stream) => this.#mail.slot(def, key, stream),
      decode: (record) => replayDecoded(this.#decodeReplay, record),
      publish: (outputs) => this.#live.publish(outputs),
      deadLetter: (msg, err, actor) => this.#notices.deadLetter(msg, err, actor),
      failed: (slot, err, pos) => onInstanceFailed(slot, err, pos, this.#restartParts),
      pump: (slot) => this.#pumps.pump(slot),
      statusMoved: (slot) => this.#mail.gauges.noteStatus(slot),
      enqueue: (slot, item) => this.#mail.enqueueFor(slot, item),
      closing: () => this.#closing,
      failure: () => this.#fatal,
      timers: this.#timers,
      config: (kind) => this.#configs.get(kind),
      attempts: this.#decisions,
      publishedThrough: (stream) => this.#decisions.takePublished(stream),
      overrun: this.options.stepOverrun,
      watch: this.options.stepWatch,
      judgeLosses: async (losses) =>
        planLossRebuild(losses, {
          firstSrcPos: losses.length > 0 ? await this.#input.firstPosition?.() : undefined,
          accept: this.options.acceptJournalLoss === true,
        }),
    };
  }

  /** What control messages work with: this host's kinds, configurations and slots. */
  #controlHost(): ControlHost {
    return {
      ...this.#view,
      configs: this.#configs,
      limits: this.#limits,
      owns: (key) => this.#owns(key),
      partition: (key) => partitionOf(key, this.#partitionCount),
      enqueue: (def, key, item) => this.#mail.enqueue(def, key, item),
      reply: (msg, answer) => this.#notices.reply(msg, answer),
      deadLetter: (msg, err) => this.#notices.deadLetter(msg, err),
      refused: (kind) => this.metrics.controlRefused.inc({ kind }),
      refusals: new ControlRefusals(),
      applied: (changes) => this.#settings.publish(changes),
    };
  }

  /** Whether the host has recovered and is consuming. */
  get ready(): boolean {
    return this.#ready;
  }

  /** The HTTP port of /healthz and /metrics, once started. */
  get httpPort(): number | undefined {
    return serverPort(this.#http);
  }

  /** Recovers every instance from snapshots and the journal, then starts consuming. */
  async start(): Promise<void> {
    try {
      if (this.options.httpPort !== undefined) {
        this.#http = await serveHostHttp(this.options.httpPort, {
          hostId: this.options.hostId,
          health: () => this.health(),
          metrics: this.metrics,
          refreshGauges: () => this.#refreshGauges(),
          partitions: {
            count: this.#partitionCount,
            owned: [...this.#owned].sort((a, b) => a - b),
          },
        }, { extra: this.options.http, bind: this.options.httpHost, auth: this.options.httpAuth });
      }
      const resumeAfter = await recoverAtStart({
        journal: this.#journal,
        snapshots: this.options.snapshots,
        decisions: this.#decisions,
        recovery: this.#recovery,
        metrics: this.metrics,
        now: this.#now,
        log: this.#log,
        instances: () => this.instances(),
        firstFrameTaken: this.#edge.firstFrameTaken,
      });
      this.#through.resume(resumeAfter);
      // Control messages and the settings query: both end when the host stops taking control.
      this.#ctlSub = this.#settings.listen(
        this.#bus.subscribe(`${SUBJECT_ROOT}.ctl.>`, (msg) => this.#onCtl(msg)),
      );
      this.#captureSub = listenStateCaptures({
        ...this.#view,
        answerers: this.options.captureAnswerers ?? this.options.answerers,
        input: this.#input,
        taking: () => !this.#closing && this.#fatal === undefined,
      });
      if (this.options.control) {
        await this.options.control.start((msg) => {
          if (this.#closing || this.#fatal) {
            return Promise.reject(new Error("the host is stopping"));
          }
          onKeptControl(msg, this.#ctlHost);
          return this.#journal.sync();
        });
      }
      const held = this.#recovery.held; // inputs of rebuilt instances, waiting for their place
      await this.#input.start((msg, srcPos) => {
        if (held.waiting > 0) held.before(srcPos);
        this.#onFeed(msg, srcPos);
        if (held.waiting > 0) held.after(srcPos);
      }, resumeAfter);
      const period = roundPeriodMs(this.options.snapshotEveryMs ?? 5000);
      this.#rounds = new PeriodicRounds(this.#timers, period, () => this.#periodic());
      this.#ticker.start();
      this.#ready = true;
    } catch (err) {
      // Nothing left open: a failed start leaves no port taken.
      await this.#closeHttp();
      throw err;
    }
  }

  /** Stops consuming, applies what is queued, snapshots what pays (snapshotter.ts), syncs. */
  async stop(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#ready = false;
    await this.#input.stop();
    if (this.options.control) await this.options.control.stop();
    this.#ctlSub?.unsubscribe();
    this.#captureSub?.unsubscribe();
    this.#rounds?.stop();
    this.#ticker.stop();
    // Let in-flight asynchronous appends finish.
    for (let i = 0; i < 200 && anyPumping(this.#slots.values()); i++) {
      await new Promise<void>((r) => this.#timers.setTimeout(r, 10));
    }
    // After a fatal journal error, what the journal holds stays as it is: nothing more is
    // appended, synced or snapshotted past it.
    if (this.#fatal === undefined) {
      this.#through.stopping(this.#decisions);
      const flushed = await this.#bus.flush().then(() => true, () => false);
      await this.#snapshotter.stopping(this.#slots, flushed ? this.#decisions : undefined);
      await this.#journal.sync();
    }
    await this.#bus.flush().catch(() => {});
    for (const slot of this.#slots.values()) slot.awake?.stop();
    await this.#closeHttp();
  }

  #closeHttp(): Promise<void> {
    const http = this.#http;
    this.#http = undefined;
    return closeServer(http);
  }

  /**
   * Stops consuming and appending after an error the host cannot go on after (its journal's
   * file cannot be written), and tells the owner (`onFatal`), which closes the host and exits.
   */
  fail(err: unknown): void {
    this.#stopOnFatal(err);
  }

  #stopOnFatal(err: unknown): void {
    if (this.#fatal !== undefined) return;
    this.#fatal = err instanceof Error ? err : new Error(String(err));
    // Stopped already: only no more appends (the pumps of inputs queued past the stop end).
    if (this.#closing) return;
    this.#ready = false;
    this.#log(`stopping: ${this.#fatal.message}`);
    this.#ctlSub?.unsubscribe();
    this.#ctlSub = undefined;
    this.#input.stop().catch(() => {});
    this.options.control?.stop().catch(() => {});
    this.options.onFatal?.(this.#fatal);
  }

  /**
   * Journals and applies a seed to `(kind, key)`: history loaded from outside the bus (the bars
   * kind's `history_dir`), an input like any other, so recovery folds it again. False when another
   * host owns the key's partition; throws for a kind here that takes no seeds.
   */
  seed(kind: string, key: string, seed: { id: string; body: unknown }): boolean {
    const def = this.#kinds.get(kind);
    if (!def?.seed) {
      throw new Error(`Cannot seed ${kind}/${key}: no kind "${kind}" here takes seeds`);
    }
    if (!this.#owns(key)) return false;
    const record = seedRecord(streamOf(kind, key), { ...seed, src: this.options.hostId });
    const item = { record, bytes: encodeInputRecord(record), decoded: undefined };
    this.#mail.enqueue(def, key, { ...item, arrivedMs: performance.now() });
    return true;
  }

  /** Whether this host owns the partition of `key`. */
  #owns(key: string): boolean {
    return this.#owned.has(partitionOf(key, this.#partitionCount));
  }

  /** The instance of `(kind, key)`, if it lives here. */
  instance(kind: string, key: string): ActorInstance | undefined {
    return this.#slots.get(streamOf(kind, key))?.inst;
  }

  /** Tells `listener(key, ts_us)` of each input applied live to `(kind, key)`; returns its stop. */
  onApplied(kind: string, listener: (key: string, ts_us: number) => void): () => void {
    return this.#live.listeners.add(kind, listener);
  }

  /** Every instance's stream, status, journal position and highest source position taken. */
  instances(): Array<{ stream: string; status: Status; pos: number; srcPos: number }> {
    return [...this.#slots.values()].map((s) => ({
      stream: s.stream,
      status: s.status,
      pos: positionsOf(s).pos,
      srcPos: s.srcPosMax,
    }));
  }

  /** Health: ready, connected, consuming, no instance stopped; why not; instances by status. */
  health(): HostHealth {
    return this.#health(this.#mail.gauges.countByStatus());
  }

  /** Health, the instances counted by status already. */
  #health(instances: Record<Status, number>): HostHealth {
    return hostHealth({
      instances,
      ready: this.#ready,
      closing: this.#closing,
      fatal: this.#fatal,
      checks: this.options.liveness ?? [],
      input: this.#ready ? this.#input.health?.() : undefined,
      progress: this.#progress.problem(this.#now()),
      loss: this.#edge.gaps.problem(this.#now()),
      channels: this.#edge.channelFigures(),
      stuck: this.options.stepTrials?.stuck() ?? [],
    });
  }

  // --- inputs ----------------------------------------------------------------------------------

  #onFeed(msg: BusMessage, srcPos: number): void {
    if (this.#closing || this.#fatal) return;
    this.#through.took(srcPos);
    // Dead-lettered before a restart: decided once.
    if (srcPos > 0 && this.#decisions.deadLettered(srcPos, msg.subject)) return;
    if (this.options.stepOverrun?.take(msg, srcPos, this.#notices, this.#decisions)) return;
    const trace = this.#trace;
    trace?.begin(this.#now() * 1000);
    let input: EdgeInput | Iterable<EdgeInput> | undefined;
    try {
      input = this.#edge.input(msg, srcPos, this.options.journalEvenTimes !== false);
    } catch (err) {
      trace?.drop();
      this.#notices.deadLetter(msg, err);
      this.#decisions.deadLetter(srcPos, msg.subject, reasonOf(err));
      return;
    }
    if (trace) traceEdge(trace, input);
    if (input === undefined) return;
    const arrivedMs = performance.now();
    if ("targets" in input) return this.#mail.enqueueInput(input, arrivedMs);
    for (const one of input) this.#mail.enqueueInput(one, arrivedMs); // a feed batch's frames
  }

  #onCtl(msg: BusMessage): void {
    if (this.#closing || this.#fatal) return;
    onLiveControl(msg, this.#ctlHost, this.options.control !== undefined);
  }

  /** Dead-letters an input its instance cannot take. */
  #reject(slot: Slot, item: Pending, err: InputRejectedError): void {
    const { subject, payload, srcPos } = item.record;
    if (item.record.kind === "frame") this.#decisions.deadLetter(srcPos, subject, err.reason);
    this.#notices.deadLetter(
      { subject, data: payload, headers: undefined, reply: undefined },
      err,
      slot.stream,
    );
  }

  #periodic(): void {
    const now = this.#now();
    const every = this.options.snapshotEveryMs ?? 5000;
    const depth = this.#refreshGauges();
    this.#progress.observe(depth, this.#live.total, now);
    snapshotRound(this.#snapshotRound, now, every, this.options.snapshotsPerSliceMax);
  }

  /** Brings the gauges up to date (see refreshGauges); returns the inputs waiting. */
  #refreshGauges(): number {
    return refreshGauges(this.metrics, this.#journal, this.#mail.gauges, (i) => this.#health(i));
  }
}
