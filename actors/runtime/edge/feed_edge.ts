/**
 * The edge where a feed message becomes an input: its subject parsed (cached per subject), the
 * instances here that consume its channel (routing comes first: a frame no instance here
 * consumes is another host's to decode and judge), then its frame decoded and checked: it names
 * the channel of its subject, and a channel new to the host is within the host's limit (the
 * channels admitted are journaled decisions, so the limit holds across a restart). A frame of an
 * input without positions (core NATS) is also checked for samples lost before it (input_gaps.ts).
 */
import {
  type AnyActorDefinition,
  type BusMessage,
  encodeInputRecordParts,
  type InputRecord,
  parseSubject,
  ProtocolError,
} from "../../../protocol/mod.ts";
import type { EdgeDecisions } from "./edge_decisions.ts";
import {
  type DecodedFrame,
  type FrameDecoder,
  type HostLimits,
  STAGE,
  type StageTrace,
  timeColumnIn,
} from "../instances/mod.ts";
import { SequenceGaps } from "./input_gaps.ts";

/** A feed message made an input: the instances here it goes to, and what each journals. */
export interface EdgeInput {
  targets: Array<[AnyActorDefinition, string]>;
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
}

/** A host's feed edge. */
export class FeedEdge {
  readonly #p: FeedEdgeParts;
  /** Feed subjects already parsed: their channel, or null for subjects that are not feeds. */
  readonly #subjects = new Map<string, string | null>();
  /** Samples lost on an input without positions, found as gaps in channels' sequences. */
  readonly gaps: SequenceGaps;
  /** Frames refused because their channel was new past the host's limit. */
  channelsRefused = 0;

  constructor(parts: FeedEdgeParts) {
    this.#p = parts;
    this.gaps = new SequenceGaps(parts.limits.channelsMax);
  }

  /**
   * Makes the feed message `msg` (at source position `srcPos`, 0 for none) an input: undefined
   * when it is no feed's or no instance here consumes it; throws (a ProtocolError, with the
   * reason it is dead-lettered for) when it is malformed or over a limit. `evenTimes`: journal
   * an evenly spaced time column as its start and step (see protocol/input_record.ts).
   */
  input(msg: BusMessage, srcPos: number, evenTimes: boolean): EdgeInput | undefined {
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

  /** The channels admitted, the limit, and the frames of new channels refused past it. */
  channelFigures(): { admitted: number; max: number; refused: number } {
    const max = this.#p.limits.channelsMax;
    return { admitted: this.#p.decisions.channels, max, refused: this.channelsRefused };
  }

  /** The channel of a subject, or null when it is not a feed's; throws for a malformed one. */
  channelOf(subject: string): string | null {
    let cached = this.#subjects.get(subject);
    if (cached === undefined) {
      const parsed = parseSubject(subject);
      cached = parsed.kind === "feed" ? parsed.channel : null;
      if (this.#subjects.size >= this.#p.limits.channelsMax) this.#subjects.clear();
      this.#subjects.set(subject, cached);
    }
    return cached;
  }

  /** The instances here, `[kind, key]`, that consume `channel`. */
  targets(channel: string): Array<[AnyActorDefinition, string]> {
    const targets: Array<[AnyActorDefinition, string]> = [];
    for (const def of this.#p.kinds.values()) {
      for (const key of def.route(channel, this.#p.configs.get(def.kind))) {
        if (this.#p.owns(key)) targets.push([def, key]);
      }
    }
    return targets;
  }

  /** Decodes the frame of `msg` and checks it against its subject's channel and the limits. */
  decode(msg: BusMessage, channel: string, srcPos: number): DecodedFrame {
    const decoded = this.#p.decode(msg.data, srcPos);
    if (decoded.frame.channel !== channel) {
      throw new ProtocolError(
        "value",
        `Frame on "${msg.subject}" names channel "${decoded.frame.channel}", not "${channel}"`,
        { value: decoded.frame.channel },
      );
    }
    const decisions = this.#p.decisions;
    if (!decisions.admitted(channel)) {
      const max = this.#p.limits.channelsMax;
      if (decisions.channels >= max) {
        this.channelsRefused++;
        throw new ProtocolError(
          "oversize",
          `Channel "${channel}" is over this host's limit of ${max} channels`,
          { value: channel },
        );
      }
      decisions.admit(channel);
    }
    if (srcPos === 0) {
      const { seq0, t } = decoded.frame;
      this.gaps.observe(channel, seq0, t.length, this.#p.now);
    }
    return decoded;
  }
}

/** Ends the edge stage of a traced frame, or drops a frame the trace cannot follow. */
export function traceEdge(trace: StageTrace, input: EdgeInput | undefined): void {
  if (input === undefined || input.targets.length !== 1) {
    trace.drop();
    return;
  }
  trace.sent(input.decoded.frame.channel, input.decoded.envelope.ts);
  trace.mark(STAGE.edge);
}
