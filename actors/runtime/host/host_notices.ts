/**
 * What a host says on the bus about itself rather than for an actor: dead letters (with the
 * metric that counts them), answers to control requests, and system notices: an actor restarted
 * after a failure, or stopped after repeated failures. Each carries an envelope id unique to this
 * host.
 */
import {
  type ActorRestartedBody,
  answerersHeaders,
  type Bus,
  type BusMessage,
  type ControlAnswer,
  encodeActorRestarted,
  encodeActorStopped,
  encodeControlAnswer,
  sysSubject,
} from "../../../protocol/mod.ts";
import { deadLetterOf, publishDeadLetter } from "../edge/mod.ts";
import type { HostMetrics } from "../operations/mod.ts";

/** What a host's notices need. */
export interface HostNoticesOptions {
  hostId: string;
  /** On a threaded host's thread: the ids of all its threads, named on each control answer. */
  answerers?: readonly string[] | undefined;
  bus: Bus;
  metrics: HostMetrics;
  /** The host clock, in ms. */
  now: () => number;
  log: (message: string) => void;
}

/** A host's dead letters, control answers and system notices. */
export class HostNotices {
  readonly #options: HostNoticesOptions;
  #seq = 0;

  constructor(options: HostNoticesOptions) {
    this.#options = options;
  }

  /** Sends `msg`, which failed with `err` (in instance `actor`, if given), to the dead letters. */
  deadLetter(msg: BusMessage, err: unknown, actor?: string): void {
    const letter = deadLetterOf(msg, err, actor);
    this.#options.metrics.deadLetters.inc({ reason: letter.reason });
    if (letter.reason === "deadline") {
      this.#options.metrics.stepOverruns.inc({ kind: actor?.split("/")[0] ?? "?" });
    }
    try {
      publishDeadLetter(this.#options.bus, letter, this.#meta());
    } catch (publishErr) {
      this.#options.log(
        `cannot publish a dead letter for "${msg.subject}": ${(publishErr as Error).message}`,
      );
    }
  }

  /**
   * Answers a control request, when it asked for an answer; a thread's answer names all its
   * host's threads (`CONTROL_ANSWERERS_HEADER`), whose answers the requester then waits for.
   */
  reply(msg: BusMessage, answer: ControlAnswer): void {
    if (!msg.reply) return;
    const answerers = this.#options.answerers;
    this.#options.bus.publish(
      msg.reply,
      encodeControlAnswer(this.#meta(), answer),
      answerers ? { headers: answerersHeaders(answerers) } : {},
    );
  }

  /** Announces that the instance of `stream` is stopped after repeated failures. */
  actorStopped(stream: string, error: string): void {
    this.#options.bus.publish(
      sysSubject("actor", "stopped"),
      encodeActorStopped(this.#meta(), { stream, error }),
    );
  }

  /**
   * Announces that the instance of `stream` is running again after failing with `error`: restarted
   * from its snapshot and journal, `failures` failures into its window, after `delay_ms` of
   * backoff.
   */
  actorRestarted(
    stream: string,
    body: Omit<ActorRestartedBody, "stream">,
  ): void {
    this.#options.bus.publish(
      sysSubject("actor", "restarted"),
      encodeActorRestarted(this.#meta(), { stream, ...body }),
    );
  }

  #meta() {
    const ts = Math.round(this.#options.now() * 1000);
    return { id: `${this.#options.hostId}:${ts}:${++this.#seq}`, src: this.#options.hostId, ts };
  }
}
