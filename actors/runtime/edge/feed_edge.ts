/**
 * The edge where a feed message becomes an input: its subject parsed (cached per subject), the
 * instances here that consume its channel (routing comes first: a frame no instance here
 * consumes is another host's to decode and judge), then its frame decoded and checked: it names
 * the channel of its subject, and a channel new to the host is within the host's limit (the
 * channels admitted are journaled decisions, so the limit holds across a restart). A frame of an
 * input without positions (core NATS) is also checked for samples lost before it (input_gaps.ts).
 *
 * A feed batch (`troupe.feed.<feed>`, many channels' samples in one message: what the
 * remote-write and OTLP receivers journal a request as) is split here into one frame per channel
 * this host consumes, each journaled and applied as a frame of its own (its values checked and
 * handed on as they are, its message encoded for the journal only), with the batch's source
 * position and an id made of the batch's and the channel, so a batch read again after a restart
 * is applied once. A Prometheus stale marker ends the channel's run of samples for the detectors
 * (they take finite values only); it stays bit for bit in the batch on the feed stream.
 */
import {
  type AnyActorDefinition,
  type BusMessage,
  decodeFeedBatch,
  encodeFramePlaced,
  encodeInputRecordParts,
  feedOfBatchSubject,
  feedSubject,
  FRAME_TYPE,
  type InputRecord,
  parseSubject,
  PROTOCOL_VERSION,
  ProtocolError,
  type SampleFrame,
  subjectBytes,
  validateFrame,
} from "../../../protocol/mod.ts";
import { isStaleMarkerAt } from "../../../protocol/prometheus/mod.ts";
import type { EdgeDecisions } from "./edge_decisions.ts";
import { decodeFeedBatchOnce } from "./_batch_once.ts";
import {
  type DecodedFrame,
  type FrameDecoder,
  type HostLimits,
  STAGE,
  type StageTrace,
  streamOf,
  timeColumnIn,
} from "../instances/mod.ts";
import { SequenceGaps } from "./input_gaps.ts";
import { reasonOf } from "./dead_letter.ts";

/** A feed message made an input: the instances here it goes to, and what each journals. */
export interface EdgeInput {
  targets: ReadonlyArray<readonly [AnyActorDefinition, string]>;
  record: InputRecord;
  /** The journal record's bytes. */
  bytes: ReturnType<typeof encodeInputRecordParts>;
  decoded: DecodedFrame;
}

/** What the edge needs of its host. */
export interface FeedEdgeParts {
  kinds: ReadonlyMap<string, AnyActorDefinition>;
  /** Each kind's current configuration (routing may depend on it). */
  configs: ReadonlyMap<string, unknown>;
  /** Whether this host owns the key's partition. */
  owns(key: string): boolean;
  limits: HostLimits;
  decode: FrameDecoder;
  /** The channels admitted, journaled so that the limit holds across restarts. */
  decisions: EdgeDecisions;
  /** The host's clock, in ms (when a gap was seen). */
  now: () => number;
  /** Dead-letters one channel's frame of a feed batch (the batch's other frames go on). */
  refuse?(frame: BusMessage, err: unknown): void;
  /** The highest source position the instance of `stream` here applied, so journaled (0: none). */
  srcPosApplied(stream: string): number;
}

/** Where a channel's inputs go here, and what its feed batches' inputs are made with. */
interface Route {
  /** The channel routed. */
  channel: string;
  /** The kinds' configurations it was routed with. */
  configs: unknown[];
  targets: ReadonlyArray<readonly [AnyActorDefinition, string]>;
  /** The feed of the channel's last batch, and the channel's subject on it, and its bytes. */
  feed: string | undefined;
  subject: string | undefined;
  subjectUtf8: Uint8Array | undefined;
  /**
   * Whether the channel was admitted (EdgeDecisions.admitted, which only ever adds one): a feed
   * batch's frame then asks the route it has in hand, not the decisions' set of every channel,
   * a lookup whose entries a fleet's host finds cold at each sample.
   */
  admitted: boolean;
  /** The route of the channel that came next in the last feed batch that held this one. */
  next: Route | undefined;
  /** The configurations' generation (FeedEdge's) a feed batch last found the route current at. */
  generation: number;
}

/** A host's feed edge. */
export class FeedEdge {
  readonly #parts: FeedEdgeParts;
  /** Feed subjects already parsed: their channel, or null for subjects that are not feeds. */
  readonly #subjects = new Map<string, string | null>();
  /** Per channel, its targets here and the kinds' configurations they were routed with. */
  readonly #routes = new Map<string, Route>();
  /**
   * The kinds and their configurations, in the kinds' order, as the last feed batch found them,
   * and their generation, which rises each time a batch finds them changed.
   */
  readonly #configsSeen: unknown[] = [];
  #generation = 0;
  /** Samples lost on an input without positions, found as gaps in channels' sequences. */
  readonly gaps: SequenceGaps;
  /** Frames refused because their channel was new past the host's limit. */
  channelsRefused = 0;

  constructor(parts: FeedEdgeParts) {
    this.#parts = parts;
    this.gaps = new SequenceGaps(parts.limits.channelsMax);
  }

  /**
   * Makes the feed message `msg` (at source position `srcPos`, 0 for none) an input: undefined
   * when it is no feed's or no instance here consumes it; throws (a ProtocolError, with the
   * reason it is dead-lettered for) when it is malformed or over a limit. `evenTimes`: journal
   * an evenly spaced time column as its start and step (see protocol/input_record.ts).
   */
  input(
    msg: BusMessage,
    srcPos: number,
    evenTimes: boolean,
  ): EdgeInput | Iterable<EdgeInput> | undefined {
    if (feedOfBatchSubject(msg.subject) !== undefined) {
      return this.batchInputs(msg, srcPos, evenTimes, (f, e) => this.#parts.refuse?.(f, e));
    }
    const channel = this.channelOf(msg.subject);
    if (channel === null) return undefined;
    const targets = this.targets(channel);
    if (targets.length === 0) return undefined;
    const decoded = this.decode(msg, channel, srcPos);
    const record: InputRecord = { kind: "frame", srcPos, subject: msg.subject, payload: msg.data };
    const bytes = encodeInputRecordParts(
      record,
      evenTimes ? timeColumnIn(msg.data, decoded) : undefined,
    );
    return { targets, record, bytes, decoded };
  }

  /**
   * Splits the feed batch `msg` into an input per channel consumed here. Throws when the batch
   * itself is malformed (at once, before any of its inputs); a channel of it that is over a
   * limit or whose samples are bad is reported through `refuse` (its frame alone is
   * dead-lettered) and the others go on. Each channel's input is made as it is taken: a batch
   * holds thousands of channels, and each is applied before the next is made, rather than all
   * of them made (and held) before the first is applied.
   */
  batchInputs(
    msg: BusMessage,
    srcPos: number,
    evenTimes: boolean,
    refuse: (frame: BusMessage, err: unknown) => void,
  ): Iterable<EdgeInput> {
    const feed = feedOfBatchSubject(msg.subject)!;
    const decoded = decodeFeedBatchOnce(msg.data, this.#parts.limits);
    return this.#batchInputs(decoded, { feed, srcPos, evenTimes, refuse });
  }

  *#batchInputs(
    { meta, batch }: ReturnType<typeof decodeFeedBatch>,
    o: {
      feed: string;
      srcPos: number;
      evenTimes: boolean;
      refuse: (frame: BusMessage, err: unknown) => void;
    },
  ): Generator<EdgeInput> {
    const { feed, srcPos, evenTimes, refuse } = o;
    const generation = this.#configsGeneration();
    let at = 0;
    let prev: Route | undefined;
    for (let c = 0; c < batch.channels.length; c++) {
      const channel = batch.channels[c]!;
      const n = batch.n[c]!;
      const from = at;
      at += n;
      const route = this.#routeAfter(prev, channel, generation);
      prev = route;
      const targets = route.targets;
      if (targets.length === 0 || n === 0) continue;
      const subject = subjectOn(route, feed, channel);
      // Dead-lettered before a restart (refused by its mailbox, say): this frame, not the batch.
      if (srcPos > 0 && this.#parts.decisions.deadLettered(srcPos, subject)) continue;
      let t = batch.t.subarray(from, from + n);
      let v = batch.v.subarray(from, from + n);
      let kept = n;
      for (let i = 0; i < n; i++) if (v[i] !== v[i] && isStaleMarkerAt(v, i)) kept--;
      if (kept === 0) continue;
      if (kept < n) {
        const tk = new Float64Array(kept), vk = new Float64Array(kept);
        for (let i = 0, j = 0; i < n; i++) {
          if (isStaleMarkerAt(v, i)) continue;
          tk[j] = t[i]!;
          vk[j++] = v[i]!;
        }
        t = tk;
        v = vk;
      }
      const frame: SampleFrame = { channel, seq0: 0, t, v };
      const id = `${meta.id}/${channel}`;
      // Encoded for the journal (its record is the frame's message), never decoded back: the
      // values are at hand, and are checked as decoding the message would check them.
      const placed = encodeFramePlaced(frame, { id, src: meta.src, ts: meta.ts });
      try {
        validateFrame(frame, this.#parts.limits);
        if (!route.admitted) {
          this.#admit(channel, srcPos);
          route.admitted = true;
        }
      } catch (err) {
        refuse({ subject, data: placed.bytes, headers: undefined, reply: undefined }, err);
        // Journaled, so that the batch read again after a restart leaves this frame out (and
        // does not dead-letter it twice) while its other frames go on.
        this.#parts.decisions.deadLetter(srcPos, subject, reasonOf(err));
        continue;
      }
      // The envelope as decoding would give it: its columns' bytes are views of the message (`v`
      // ends it).
      const body = {
        channel,
        seq0: 0,
        t: placed.bytes.subarray(placed.tAt, placed.tAt + t.byteLength),
        v: placed.bytes.subarray(placed.bytes.byteLength - v.byteLength),
      };
      const envelope = {
        v: PROTOCOL_VERSION,
        id,
        type: FRAME_TYPE,
        src: meta.src,
        ts: meta.ts,
        body,
      };
      const record: InputRecord = { kind: "frame", srcPos, subject, payload: placed.bytes };
      const times = evenTimes ? { at: placed.tAt, t } : undefined;
      const bytes = encodeInputRecordParts(record, times, route.subjectUtf8);
      yield { targets, record, bytes, decoded: { envelope, frame, text: placed } };
    }
  }

  /**
   * Whether every instance here of `channel` applied its frame at `srcPos` (see
   * EdgeDecisions.firstFrameHeld): a channel no instance here consumes any more has nothing held.
   */
  readonly firstFrameTaken = (channel: string, srcPos: number): boolean => {
    for (const [def, key] of this.targets(channel)) {
      if (this.#parts.srcPosApplied(streamOf(def.kind, key)) < srcPos) return false;
    }
    return true;
  };

  /** The channels admitted, the limit, and the frames of new channels refused past it. */
  channelFigures(): { admitted: number; max: number; refused: number } {
    const max = this.#parts.limits.channelsMax;
    return { admitted: this.#parts.decisions.living, max, refused: this.channelsRefused };
  }

  /** The channel of a subject, or null when it is not a feed's; throws for a malformed one. */
  channelOf(subject: string): string | null {
    let cached = this.#subjects.get(subject);
    if (cached === undefined) {
      const parsed = parseSubject(subject);
      cached = parsed.kind === "feed" ? parsed.channel : null;
      if (this.#subjects.size >= this.#parts.limits.channelsMax) this.#subjects.clear();
      this.#subjects.set(subject, cached);
    }
    return cached;
  }

  /**
   * The instances here, `[kind, key]`, that consume `channel` (not to be changed: the same array
   * is handed out for the channel until a kind's configuration is replaced).
   */
  targets(channel: string): ReadonlyArray<readonly [AnyActorDefinition, string]> {
    return this.#route(channel).targets;
  }

  /**
   * `channel`'s route in a feed batch, where `prev` is the route of the channel before it: a
   * sender sends its channels in the same order each time, so the route that came after `prev`
   * last time is most often this one, and it is checked in two reads where the map's lookup, in a
   * fleet host's hundred thousand routes, costs several cache misses each channel. Otherwise
   * looked up, and remembered as `prev`'s next.
   */
  #routeAfter(prev: Route | undefined, channel: string, generation: number): Route {
    const guess = prev?.next;
    if (guess !== undefined && guess.generation === generation && guess.channel === channel) {
      return guess;
    }
    const route = this.#route(channel);
    route.generation = generation;
    if (prev !== undefined) prev.next = route;
    return route;
  }

  /**
   * The generation of the kinds' configurations: the last feed batch's, or one more when they
   * changed since (a kind's configuration replaced, a kind added or taken out).
   */
  #configsGeneration(): number {
    const configs = this.#parts.configs, seen = this.#configsSeen;
    let changed = seen.length !== 2 * this.#parts.kinds.size;
    let i = 0;
    for (const def of this.#parts.kinds.values()) {
      const config = configs.get(def.kind);
      if (seen[i] !== def || seen[i + 1] !== config) changed = true;
      seen[i++] = def;
      seen[i++] = config;
    }
    seen.length = i;
    if (changed) this.#generation++;
    return this.#generation;
  }

  /** `channel`'s route: made once per channel and configuration (see `targets`). */
  #route(channel: string): Route {
    // Asked of every frame, also of those no instance here consumes (most of them where many
    // hosts share a feed): routed once per channel and configuration, not once per frame.
    const configs = this.#parts.configs, kinds = this.#parts.kinds;
    const known = this.#routes.get(channel);
    if (known && known.configs.length === kinds.size) {
      let i = 0;
      for (const def of kinds.values()) {
        if (configs.get(def.kind) !== known.configs[i]) break;
        i++;
      }
      if (i === kinds.size) return known;
    }
    const targets: Array<[AnyActorDefinition, string]> = [];
    const used: unknown[] = [];
    for (const def of kinds.values()) {
      const config = configs.get(def.kind);
      used.push(config);
      for (const key of def.route(channel, config)) {
        if (this.#parts.owns(key)) targets.push([def, key]);
      }
    }
    if (this.#routes.size >= this.#parts.limits.channelsMax) this.#routes.clear();
    const route: Route = {
      channel,
      configs: used,
      targets,
      feed: undefined,
      subject: undefined,
      subjectUtf8: undefined,
      admitted: false,
      next: undefined,
      generation: -1,
    };
    this.#routes.set(channel, route);
    return route;
  }

  /** Decodes the frame of `msg` and checks it against its subject's channel and the limits. */
  decode(msg: BusMessage, channel: string, srcPos: number): DecodedFrame {
    const decoded = this.#parts.decode(msg.data, srcPos);
    if (decoded.frame.channel !== channel) {
      throw new ProtocolError(
        "value",
        `Frame on "${msg.subject}" names channel "${decoded.frame.channel}", not "${channel}"`,
        { value: decoded.frame.channel },
      );
    }
    this.#admit(channel, srcPos);
    if (srcPos === 0) {
      const { seq0, t } = decoded.frame;
      this.gaps.observe(channel, seq0, t.length, this.#parts.now);
    }
    return decoded;
  }

  /**
   * Admits `channel` to the host, or throws when it is new and the host is at its limit (the
   * process's, counting each channel its hosts hold once, when it shares its limit with them: one
   * another of them holds already costs nothing). A channel whose own instances live elsewhere
   * (taken here for a group's instance) counts there: here it is bounded by `routedChannelsMax`.
   */
  #admit(channel: string, srcPos: number): void {
    const decisions = this.#parts.decisions;
    if (!decisions.admitted(channel)) {
      const { channelsMax, channelBook: book, routedChannelsMax } = this.#parts.limits;
      let held: number, max = channelsMax;
      if (book !== undefined) held = book.has(channel) ? -1 : book.size;
      else if (decisions.lives(channel)) held = decisions.living;
      else [held, max] = [decisions.channels - decisions.living, routedChannelsMax ?? max];
      if (held >= max) {
        this.channelsRefused++;
        throw new ProtocolError(
          "oversize",
          `Channel "${channel}" is over this host's limit of ${max} channels ` +
            `(limits.channels_max; by default what limits.memory_budget_mb holds)`,
          { value: channel },
        );
      }
      decisions.admit(channel, srcPos);
    }
  }
}

/**
 * The subject of `channel` on `feed`, kept in its route with its bytes: one string a channel and
 * feed, not one made each batch, so that its hash is computed once and the lookups keyed by it
 * find it by identity, and the record header takes its bytes from the route.
 */
function subjectOn(route: Route, feed: string, channel: string): string {
  if (route.feed !== feed) {
    route.feed = feed;
    route.subject = feedSubject(feed, channel);
    route.subjectUtf8 = subjectBytes(route.subject);
  }
  return route.subject!;
}

/** Ends the edge stage of a traced frame, or drops a frame the trace cannot follow. */
export function traceEdge(
  trace: StageTrace,
  input: EdgeInput | Iterable<EdgeInput> | undefined,
): void {
  // A feed batch's frames are many: the trace follows one frame from the edge to its publish.
  if (input === undefined || !("targets" in input) || input.targets.length !== 1) {
    trace.drop();
    return;
  }
  trace.sent(input.decoded.frame.channel, input.decoded.envelope.ts);
  trace.mark(STAGE.edge);
}
