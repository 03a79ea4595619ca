/**
 * A recorder's state capture (`Recorder.begin`): it asks every host on the bus for its actors'
 * state (protocol/state_capture.ts) and gathers the answers' parts until every host heard from has
 * sent all of its parts, and every host those name as answering beside them
 * (`CONTROL_ANSWERERS_HEADER`: a threaded host's threads, a leased cluster's partition hosts) has
 * answered too, and then none more comes (requestAll's quiet gap); or until the timeout. A host
 * named and not heard by then may have started only after the ask (a partition's new owner as its
 * lease moves): it is asked once more, and what it answers is taken. What is missing is said in
 * notes, one line each.
 */
import { requestAll } from "../../actors/runtime/mod.ts";
import {
  answerersNamed,
  type Bus,
  type BusMessage,
  decodeStateCapturePart,
  encodeStateCaptureAsk,
  type StateCapturePart,
  stateCaptureSubject,
} from "../../protocol/mod.ts";
import type { Clock } from "../clock.ts";
import type { RecordingStart } from "./recording_start.ts";
import { missedByReason, namedInstances } from "./missed_instances.ts";

/** How a recorder begun mid-session asks for the actors' state. */
export interface StateCaptureOptions {
  /** Milliseconds a host waits for an instance's queued inputs. Default 5000. */
  settleMs?: number;
  /** Milliseconds to wait for the answers in all (for each ask). Default settleMs + 1000. */
  timeoutMs?: number;
  /** The asker's name in the hosts' logs. Default "troupe record". */
  by?: string;
}

/** What `Recorder.begin` says about the state capture. */
export interface CaptureOutcome {
  /** The start section written, or undefined when no host answered. */
  start: RecordingStart | undefined;
  /**
   * Why there is none, or what is incomplete (hosts whose answer lacks parts, instances missed,
   * hosts named by the others that did not answer).
   */
  notes: string[];
}

/** Asks every host on `bus` for its actors' state, as the module's note says. */
export async function captureState(
  bus: Bus,
  o: StateCaptureOptions,
  clock: Clock,
): Promise<CaptureOutcome> {
  const settleMs = o.settleMs ?? 5000;
  const answers = new CaptureAnswers();
  const ask = encodeStateCaptureAsk({ by: o.by ?? "troupe record", settleMs });
  const gather = () =>
    requestAll(bus, stateCaptureSubject(), ask, {
      timeout: o.timeoutMs ?? settleMs + 1000,
      settled: (so) => answers.settled(so),
    });
  let got: BusMessage[];
  try {
    got = await gather();
  } catch (err) {
    return {
      start: undefined,
      notes: [`no host answered the state capture: ${(err as Error).message}`],
    };
  }
  const missing = new Set(answers.unheard(got));
  if (missing.size > 0) {
    const again = await gather().catch(() => []);
    got = [...got, ...again.filter((m) => missing.has(answers.hostOf(m) ?? ""))];
  }
  const { parts, notes } = answers.read(got);
  if (parts.length === 0) return { start: undefined, notes };
  return { start: { takenUs: Math.round(clock.now()), parts }, notes };
}

/** The answers of a state capture, each decoded once, by host. */
class CaptureAnswers {
  readonly #decoded = new Map<BusMessage, StateCapturePart | string>();

  /** The part `msg` holds, or why it holds none. */
  partOf(msg: BusMessage): StateCapturePart | string {
    let part = this.#decoded.get(msg);
    if (part === undefined) {
      try {
        part = decodeStateCapturePart(msg.data);
      } catch (err) {
        part = `an answer was not a state capture part: ${(err as Error).message}`;
      }
      this.#decoded.set(msg, part);
    }
    return part;
  }

  /** The host of the part `msg` holds, if it holds one. */
  hostOf(msg: BusMessage): string | undefined {
    const part = this.partOf(msg);
    return typeof part === "string" ? undefined : part.host;
  }

  /** Each host's parts (the first of each index). */
  byHost(answers: readonly BusMessage[]): Map<string, Map<number, StateCapturePart>> {
    const hosts = new Map<string, Map<number, StateCapturePart>>();
    for (const a of answers) {
      const part = this.partOf(a);
      if (typeof part === "string") continue;
      const got = hosts.get(part.host) ?? new Map<number, StateCapturePart>();
      hosts.set(part.host, got);
      if (!got.has(part.part)) got.set(part.part, part);
    }
    return hosts;
  }

  /** Whether every host heard from sent all its parts and every host named was heard. */
  settled(answers: readonly BusMessage[]): boolean {
    return [...this.byHost(answers).values()].every(whole) && this.unheard(answers).length === 0;
  }

  /** The hosts the answers name as answering beside them that have not answered, sorted. */
  unheard(answers: readonly BusMessage[]): string[] {
    const heard = this.byHost(answers);
    const named = new Set<string>();
    for (const a of answers) {
      for (const id of answerersNamed(a.headers)) named.add(id);
    }
    return [...named].filter((id) => !heard.has(id)).sort();
  }

  /** The parts, by host then index, and the notes on what is missing. */
  read(answers: readonly BusMessage[]): { parts: StateCapturePart[]; notes: string[] } {
    const notes: string[] = [];
    for (const a of answers) {
      const part = this.partOf(a);
      if (typeof part === "string") notes.push(part);
    }
    const parts: StateCapturePart[] = [];
    for (const [host, got] of [...this.byHost(answers)].sort((a, b) => a[0] < b[0] ? -1 : 1)) {
      if (!whole(got)) {
        notes.push(`host ${host} sent ${got.size} of its ${[...got.values()][0]!.parts} parts`);
      }
      for (const part of [...got.values()].sort((a, b) => a.part - b.part)) {
        parts.push(part);
      }
      const missed = [...got.values()].flatMap((part) => part.missed);
      for (const { reason, streams } of missedByReason(missed)) {
        const which = streams.length === 1 ? streams[0] : namedInstances(streams);
        notes.push(`host ${host} did not capture ${which}: ${reason}`);
      }
    }
    for (const host of this.unheard(answers)) {
      notes.push(
        `host ${host} did not answer (the hosts that did name it, asked twice): its instances ` +
          "are not captured",
      );
    }
    return { parts, notes };
  }
}

/** Whether a host's parts are all there. */
function whole(got: Map<number, StateCapturePart>): boolean {
  return got.size === [...got.values()][0]!.parts;
}
