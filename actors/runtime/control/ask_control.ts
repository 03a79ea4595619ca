/**
 * Sends a control message as a request that every host answers (`CONTROL_ANSWER_ALL_HEADER`):
 * the hosts it is for with "ok" or the refusal, every other host with a pass (it runs no actor of
 * the kind, or does not own the key's partition). A keyed message is done at its first answer
 * that is not a pass (its owner's); a kind-wide one gathers every answer (`requestAll`). When
 * only hosts that run no actor of the kind answer, the gathering ends after their quiet gap, not
 * at the timeout: the requester learns at once that no host runs the kind. A keyed message that a
 * host running the kind passed (it does not own the key's partition) waits for the owner as
 * before, up to the timeout: the owner may be slow, and the kind runs. The threads of a threaded
 * host each answer for their own instances, every answer naming all of them
 * (`CONTROL_ANSWERERS_HEADER`): a kind-wide gathering that has heard one thread goes on until it
 * has heard them all (or the timeout), as a loaded thread may answer later than the quiet gap.
 * `troupe ctl`, the collab
 * bridge and `troupe inject`'s metrics settings ask through it and read the answers with
 * `readControlAnswers`.
 */
import {
  answerersNamed,
  type Bus,
  type BusMessage,
  CONTROL_ANSWER_ALL_HEADER,
  CONTROL_PASS_TYPE,
  controlAnswerOf,
  type ControlPass,
  decodeEnvelope,
  ProtocolError,
} from "../../../protocol/mod.ts";
import { requestAll } from "./request_all.ts";

/** Options of `askControl`. */
export interface AskControlOptions {
  /** Milliseconds to wait in all; with no answer by then, the request fails (BusRequestError). */
  timeout: number;
  /** Whether the message addresses one key (its owner's answer ends the ask). */
  keyed: boolean;
}

/** Every answer to the control message `data` on `subject`, passes included. */
export function askControl(
  bus: Bus,
  subject: string,
  data: Uint8Array,
  options: AskControlOptions,
): Promise<BusMessage[]> {
  return requestAll(bus, subject, data, {
    timeout: options.timeout,
    headers: { [CONTROL_ANSWER_ALL_HEADER]: "1" },
    ...(options.keyed
      ? {
        until: (m: BusMessage) => passOf(m) === undefined,
        settled: (all: readonly BusMessage[]) => all.every((m) => passOf(m)?.partition === null),
      }
      : { settled: threadsAnswered }),
  });
}

/** Whether every thread an answer names (`CONTROL_ANSWERERS_HEADER`) has answered. */
function threadsAnswered(all: readonly BusMessage[]): boolean {
  const named = new Set<string>();
  const heard = new Set<string>();
  for (const msg of all) {
    for (const id of answerersNamed(msg.headers)) named.add(id);
    const src = srcOf(msg);
    if (src !== undefined) heard.add(src);
  }
  return [...named].every((id) => heard.has(id));
}

/** The source of an answer (undefined for one that cannot be read). */
function srcOf(msg: BusMessage): string | undefined {
  try {
    return decodeEnvelope(msg.data).src;
  } catch (err) {
    if (err instanceof ProtocolError) return undefined;
    throw err;
  }
}

/** The pass an answer is, or undefined (one that cannot be read is none: it is shown as it is). */
function passOf(msg: BusMessage): ControlPass | undefined {
  try {
    const env = decodeEnvelope(msg.data);
    if (env.type !== CONTROL_PASS_TYPE) return undefined;
    const answer = controlAnswerOf(env);
    return answer.ok ? undefined : answer.pass;
  } catch (err) {
    if (err instanceof ProtocolError) return undefined;
    throw err;
  }
}
