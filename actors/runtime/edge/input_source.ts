/**
 * Where a host's feed messages come from: a contract with two implementations, a core-NATS (or
 * in-process) subscription here, and JetStream's ordered consumer in `jetstream_input.ts`; the
 * simulator brings its own. A source hands each message with its position in the source (a
 * JetStream stream sequence, or 0 where there is none), so that a host resumes past what it has.
 */
import {
  type Bus,
  type BusMessage,
  type BusSubscription,
  SUBJECT_ROOT,
} from "../../../protocol/mod.ts";

/** Where a host's inputs come from. */
export interface InputSource {
  /** Starts delivering; `resumeAfter` is the highest source position already journaled. */
  start(deliver: (msg: BusMessage, srcPos: number) => void, resumeAfter: number): Promise<void>;
  stop(): Promise<void>;
  /** The first source position the source still holds (for reading again what a journal lost);
   *  absent for sources without positions. */
  firstPosition?(): Promise<number>;
  /** A reason (one line) while the source is not delivering what it has, else undefined. */
  health?(): string | undefined;
  /**
   * The last source position the source holds now (a stream's last sequence); with `delivered`,
   * what a host asked for its state waits for (state_capture_answer.ts). Absent for sources
   * without positions.
   */
  lastPosition?(): Promise<number>;
  /** The last source position delivered (where it started, before the first delivery). */
  delivered?(): number;
}

/** A core-NATS (or in-process) subscription to `troupe.feed.>`: no positions, no redelivery. */
export function coreInput(bus: Bus, pattern = `${SUBJECT_ROOT}.feed.>`): InputSource {
  let sub: BusSubscription | undefined;
  return {
    async start(deliver) {
      sub = bus.subscribe(pattern, (msg) => deliver(msg, 0));
      // The server has the subscription before the host says it runs: a frame published after
      // that reaches it (core NATS keeps nothing for a subscription not there yet). Disconnected,
      // the client subscribes again when it reconnects.
      await bus.flush().catch(() => {});
    },
    stop() {
      sub?.unsubscribe();
      return Promise.resolve();
    },
  };
}
