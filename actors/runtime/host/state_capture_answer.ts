/**
 * A host's answer to a state capture (protocol/state_capture.ts): the snapshot of each of its
 * running instances, each taken once the last input waiting in its mailbox when the ask came is
 * applied (or the mailbox is empty), so that every input the host received before the ask is in
 * it (the asker recorded from before it asked, so what the snapshot lacks is in its recording). A
 * host whose input reads a JetStream stream first waits until its consumer has delivered all the
 * stream held at the ask: inputs published before the asker subscribed are then in the mailboxes.
 * Instances are independent, so each is taken at its own quiet moment; from the ask to it, each
 * keeps the ids its window of applied ids drops, and its snapshot's ids hold them (a busy instance
 * may apply more inputs than the window holds, every one of them in its state and, come after the
 * ask, in the recording, so a replay passes them all over). The answer goes out in parts of
 * bounded size on the ask's reply subject. A host that is one of several answering for their own
 * instances (a threaded host's threads, a leased cluster's partition hosts) names them all on each
 * part (`CONTROL_ANSWERERS_HEADER`), so that the asker waits for every one of them rather than
 * ending at a quiet gap that a loaded host may overrun.
 */
import {
  answerersHeaders,
  type Bus,
  type BusMessage,
  type BusSubscription,
  CAPTURE_PART_BYTES_MAX,
  type CapturedInstance,
  decodeStateCaptureAsk,
  encodeStateCapturePart,
  type StateCapturePart,
  stateCaptureSubject,
} from "../../../protocol/mod.ts";
import {
  type ActorInstance,
  DROPPED_KEPT_MAX,
  type HostTimers,
  type Slot,
} from "../instances/mod.ts";
import type { InputSource } from "../edge/mod.ts";

/** How often a waiting capture looks at the mailboxes again, in ms. */
const CAPTURE_POLL_MS = 2;

/**
 * How long a host lets inputs it may have been handed before the ask reach its mailboxes before it
 * looks: a host thread takes its inputs from its process's edge by message, which may still be
 * under way when the ask comes over its own connection. Waiting is always safe: an input that
 * arrives meanwhile was recorded, and the snapshot holds its id, so a replay passes it over.
 */
const CAPTURE_FIRST_LOOK_MS = 250;

/** What a capture works with: the host's slots, kinds and their configurations, timers and bus. */
export interface StateCaptureParts {
  hostId: string;
  slots: () => Iterable<Slot>;
  kinds: ReadonlyMap<string, { version: number }>;
  configs: ReadonlyMap<string, unknown>;
  timers: HostTimers;
  bus: Pick<Bus, "publish" | "subscribe">;
  log(message: string): void;
  /**
   * The host ids of every host that answers beside this one, each for its own instances (this
   * one's among them), named on each part: a threaded host's threads, a leased cluster's
   * partition hosts.
   */
  answerers?: readonly string[] | undefined;
  /**
   * The host's input: one with positions (a JetStream consumer) is waited for until it has
   * delivered all its source held at the ask, before the first look.
   */
  input?: InputSource | undefined;
}

/**
 * Answers the state captures asked on `bus` until unsubscribed, while `taking()` (a host that is
 * stopping, or stopped by a fatal error, answers none).
 */
export function listenStateCaptures(
  parts: StateCaptureParts & { taking(): boolean },
): BusSubscription {
  return parts.bus.subscribe(stateCaptureSubject(), (msg) => {
    if (parts.taking()) answerStateCapture(msg, parts);
  });
}

/** Answers a state capture's ask `msg` (one without a reply subject is ignored). */
export function answerStateCapture(msg: BusMessage, parts: StateCaptureParts): void {
  const reply = msg.reply;
  if (!reply) return;
  let settleMs: number;
  try {
    const ask = decodeStateCaptureAsk(msg.data);
    settleMs = ask.settleMs;
    parts.log(`state capture asked by ${ask.by}`);
  } catch (err) {
    parts.log(`state capture ask refused: ${(err as Error).message}`);
    return;
  }
  const t0 = performance.now();
  /** The instances to capture: those at the first look (an input on its way may make one). */
  const waiting = new Map<string, Slot>();
  /**
   * Per stream, the id of the last input waiting at the first look (a frame's), if any: taken
   * then, not at the ask, so that it also covers inputs that were on their way to the mailbox.
   */
  let lastBefore: Map<string, string> | undefined;
  const taken: CapturedInstance[] = [];
  const missed: Array<{ stream: string; reason: string }> = [];
  const kept = new DroppedIdsKept();
  const answer = () => {
    kept.end();
    send(reply, taken, missed, parts);
  };
  for (const slot of parts.slots()) kept.keep(slot.inst);
  const round = () => {
    if (lastBefore === undefined) {
      lastBefore = new Map();
      for (const slot of parts.slots()) waiting.set(slot.stream, slot);
      for (const slot of waiting.values()) {
        kept.keep(slot.inst);
        const id = slot.mailbox.length > slot.head
          ? slot.mailbox[slot.mailbox.length - 1]!.decoded?.envelope.id
          : undefined;
        if (id !== undefined) lastBefore.set(slot.stream, id);
      }
    }
    for (const [stream, slot] of waiting) {
      const inst = slot.inst;
      if (slot.status !== "running" || !inst) {
        missed.push({ stream, reason: `the instance is ${slot.status}` });
        waiting.delete(stream);
        continue;
      }
      // A busy instance's mailbox may never be empty: past the last input waiting at the first
      // look, what it applies came after the ask, so was recorded, and its id is in the snapshot.
      const last = lastBefore.get(stream);
      const quiet = slot.mailbox.length === slot.head && !slot.pumping;
      if (!quiet && (last === undefined || !inst.hasApplied(last))) continue;
      waiting.delete(stream);
      const captured = captureOf(slot, inst, kept);
      if (typeof captured === "string") missed.push({ stream, reason: captured });
      else taken.push(captured);
    }
    if (waiting.size > 0 && performance.now() - t0 < settleMs) {
      parts.timers.setTimeout(round, CAPTURE_POLL_MS);
      return;
    }
    for (const stream of waiting.keys()) {
      missed.push({ stream, reason: `inputs still waiting after ${settleMs} ms` });
    }
    answer();
  };
  const firstLookMs = Math.min(CAPTURE_FIRST_LOOK_MS, settleMs);
  afterInputAtAsk(parts, settleMs, (late) => {
    if (late === undefined) {
      parts.timers.setTimeout(round, Math.max(0, firstLookMs - (performance.now() - t0)));
    } else {
      for (const slot of parts.slots()) missed.push({ stream: slot.stream, reason: late });
      answer();
    }
  });
}

/**
 * The instances that keep the ids their windows drop, from a capture's ask to their snapshots: a
 * busy one may apply more inputs than its window holds meanwhile, all of them recorded (they came
 * after the ask) and all in its state.
 */
class DroppedIdsKept {
  readonly #insts = new Set<ActorInstance>();

  /** `inst` keeps them from now (once however often asked). */
  keep(inst: ActorInstance | undefined): void {
    if (inst === undefined || this.#insts.has(inst)) return;
    inst.keepDroppedIds();
    this.#insts.add(inst);
  }

  /** `inst`'s captured ids (`ActorInstance.capturedIds`); it keeps no more for this capture. */
  take(inst: ActorInstance): Uint8Array | undefined {
    const ids = inst.capturedIds();
    if (this.#insts.delete(inst)) inst.endKeepingDroppedIds();
    return ids;
  }

  /** The capture is answered: none keeps them for it any more. */
  end(): void {
    for (const inst of this.#insts) inst.endKeepingDroppedIds();
    this.#insts.clear();
  }
}

/** The capture of `slot`'s running instance `inst`, or why it cannot be captured. */
function captureOf(
  slot: Slot,
  inst: ActorInstance,
  kept: DroppedIdsKept,
): CapturedInstance | string {
  const s = inst.snapshot(), ids = kept.take(inst);
  if (ids === undefined) {
    return `it applied more than ${DROPPED_KEPT_MAX} inputs past its window of ids before its ` +
      "snapshot";
  }
  return {
    stream: slot.stream,
    version: slot.def.version,
    pos: s.pos,
    srcPos: s.srcPos,
    machine: s.machine,
    kernel: s.kernel,
    config: s.config,
    ids,
  };
}

/**
 * Calls `then()` once the host's input has delivered every input its source held at the ask (at
 * once for an input without positions, which hands on what was published as it comes), or
 * `then(why)` when it has not after `settleMs`. A JetStream consumer may lag the stream by seconds
 * on a loaded host; what it had not delivered at the ask was published before the recorder
 * subscribed (or as it did), so it is in neither the recording nor, taken at once, the snapshot.
 */
function afterInputAtAsk(
  parts: StateCaptureParts,
  settleMs: number,
  then: (late?: string) => void,
): void {
  const input = parts.input;
  if (!input?.lastPosition || !input.delivered) return then();
  const delivered = () => input.delivered!();
  const t0 = performance.now();
  let held: number | undefined;
  input.lastPosition().then((pos) => (held = pos), (err) => {
    parts.log(`state capture: cannot read where the input stands: ${(err as Error).message}`);
    held = -1; // unknown: looked at as an input without positions is
  });
  const wait = (): void => {
    if (held !== undefined && delivered() >= held) then();
    else if (performance.now() - t0 < settleMs) parts.timers.setTimeout(wait, CAPTURE_POLL_MS);
    else {
      then(
        `its input had delivered up to position ${delivered()} of the ${held ?? "(unread)"} ` +
          `its source held at the ask, after ${settleMs} ms`,
      );
    }
  };
  wait();
}

/** Sends the answer in parts of about CAPTURE_PART_BYTES_MAX. */
function send(
  reply: string,
  taken: CapturedInstance[],
  missed: Array<{ stream: string; reason: string }>,
  parts: StateCaptureParts,
): void {
  const kinds: StateCapturePart["kinds"] = {};
  for (const [kind, { version }] of parts.kinds) {
    kinds[kind] = { version, config: parts.configs.get(kind) ?? null };
  }
  const groups: CapturedInstance[][] = [[]];
  let bytes = 0;
  for (const inst of taken) {
    const size = inst.kernel.byteLength + inst.ids.byteLength + 1024;
    if (bytes > 0 && bytes + size > CAPTURE_PART_BYTES_MAX) {
      groups.push([]);
      bytes = 0;
    }
    groups[groups.length - 1]!.push(inst);
    bytes += size;
  }
  const atMs = Date.now();
  const headers = parts.answerers ? { headers: answerersHeaders(parts.answerers) } : {};
  groups.forEach((instances, part) => {
    parts.bus.publish(
      reply,
      encodeStateCapturePart({
        host: parts.hostId,
        part,
        parts: groups.length,
        atMs,
        kinds,
        instances,
        missed: part === 0 ? missed : [],
      }),
      headers,
    );
  });
  parts.log(
    `state capture: ${taken.length} instances in ${groups.length} parts` +
      (missed.length > 0 ? `, ${missed.length} not captured` : ""),
  );
}
