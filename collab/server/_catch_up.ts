/**
 * A node's catch-up with the other nodes when it loads a session: it asks on
 * `troupe.req.collab.<session>` with its state vector (a request: a node alone is told at once that
 * nobody answers), merges the answer (what it lacks) and publishes what the answerer lacks; and
 * while the session stays loaded it answers such questions itself. The first client's sync waits
 * for an answer at most `catch_up_ms`. An answer that comes later, from a node held up (a
 * collection, a loaded machine, a large document to encode), is still merged when it comes, up to
 * `catch_up_late_ms`, and reaches the clients as an update: taken for "no other node", it left the
 * session without the others' state until anti-entropy repaired it two digests later (5 to 15 s).
 */
import * as Y from "yjs";
import {
  type Bus,
  type BusMessage,
  type BusSubscription,
  catchUpSubject,
  collabSubject,
  decodeCatchUp,
  encodeCatchUp,
  encodePeerMessage,
} from "../../protocol/mod.ts";
import type { Room } from "./_room.ts";

/** Options of `catchUp`. */
export interface CatchUpOptions {
  bus: Bus;
  /** This node's name on the bus. */
  nodeId: string;
  /** How long the load waits for an answer (`catch_up_ms`). */
  waitMs: number;
  /** How long an answer is still taken after that, merged when it comes (`catch_up_late_ms`). */
  lateMs: number;
  /** Whether `room` is still this node's loaded room of its session (a late answer is dropped
   *  once it is unloaded). */
  isLoaded(): boolean;
}

/**
 * Asks the nodes that have `room`'s session loaded for what it lacks; resolves once an answer is
 * merged or `waitMs` passed, whichever comes first (a later answer is merged when it comes).
 */
export async function catchUp(room: Room, options: CatchUpOptions): Promise<void> {
  const { bus, waitMs, lateMs } = options;
  const asked = bus.request(catchUpSubject(room.session), Y.encodeStateVector(room.doc), {
    timeout: waitMs + lateMs,
  });
  // No answer (a node alone: a timeout or no responders) and an answer that cannot be read alike:
  // this node's copy is the session's until a peer's update or anti-entropy says otherwise.
  const answer = asked.then((reply) => reply, () => undefined);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const waited = new Promise<"waited">((resolve) => {
    timer = setTimeout(() => resolve("waited"), waitMs);
  });
  const first = await Promise.race([answer, waited]);
  clearTimeout(timer);
  if (first !== "waited") return take(room, first, options);
  void answer.then((late) => {
    if (options.isLoaded()) take(room, late, options);
  });
}

/** Merges a catch-up answer into `room` and publishes what the answerer lacks. */
function take(room: Room, reply: BusMessage | undefined, options: CatchUpOptions): void {
  if (reply === undefined) return;
  try {
    const { update, stateVector } = decodeCatchUp(reply.data);
    room.applyRemote(update);
    const theirs = Y.encodeStateAsUpdate(room.doc, stateVector);
    const { structs, ds } = Y.decodeUpdate(theirs);
    if (structs.length || ds.clients.size) {
      options.bus.publish(
        collabSubject(room.session),
        encodePeerMessage({ node: options.nodeId, kind: "update", payload: theirs }),
      );
    }
  } catch {
    // A malformed answer: nothing of it is taken.
  }
}

/** Answers other nodes' catch-up questions about `room`'s session until unsubscribed. */
export function answerCatchUps(room: Room, bus: Bus): BusSubscription {
  return bus.subscribe(catchUpSubject(room.session), (msg) => {
    if (!msg.reply || room.doc.isDestroyed) return;
    try {
      const diff = Y.encodeStateAsUpdate(room.doc, msg.data);
      bus.publish(msg.reply, encodeCatchUp(diff, Y.encodeStateVector(room.doc)));
    } catch {
      // A malformed state vector: no answer.
    }
  });
}
