/**
 * The findings source of a stage on a bus with no findings stream (the in-process bus, which only
 * its process sees, or a NATS server without JetStream): what the stream is on NATS, made of a
 * journal of the stage's own (stream `incidents`). Every message on `troupe.finding.>` (findings,
 * the hosts' progress marks, the sessions' silence tables) is appended as it arrives, written at
 * once (a kill -9 of the process after it loses it not), and handed on with its journal position
 * as its sequence, so the one stage (durable_incident_stage.ts) reads a journal as it reads the
 * stream: refolded from its snapshot up to the journal's end, then live. The subscription is in
 * place from the source's creation, before its host publishes anything; what arrives while the
 * stage refolds waits, in order, behind the refold.
 */
import { type Bus, type BusSubscription, FINDINGS_PATTERN } from "../../protocol/mod.ts";
import type { FindingHandler, FindingSource, Journal } from "../runtime/mod.ts";
import { INCIDENT_JOURNAL_STREAM } from "./stage_snapshots.ts";

/** The journal's name in what the stage says (its dead letters' ids). */
export const INCIDENT_JOURNAL_NAME = "incident journal";

/** A journal source: a findings source, and how to stop journaling. */
export interface JournalFindingSource extends FindingSource {
  /** Stops journaling what is published (the consumer stops taking it too). */
  close(): void;
}

/**
 * Journals what is published on `bus` under `troupe.finding.>` in `journal` (whose appends must
 * return their position at once: a file or memory journal), from now on; `onError` hears of an
 * append that fails (that message is not taken).
 */
export function journalFindingSource(
  bus: Bus,
  journal: Journal,
  onError: (err: unknown) => void = () => {},
): JournalFindingSource {
  let handler: FindingHandler | undefined;
  /** What arrived while the consumer refolded the journal, in order. */
  let waiting: Array<[Uint8Array, number, string]> | undefined;
  const sub: BusSubscription = bus.subscribe(FINDINGS_PATTERN, (m) => {
    const data = m.data.slice();
    let pos;
    try {
      pos = journal.append(INCIDENT_JOURNAL_STREAM, data);
      if (typeof pos !== "number") throw new TypeError("an append must return its position");
      // Written now, not at the buffer's next write: the actor whose finding it is may have its
      // input journaled already, and would not publish it again after a kill -9.
      journal.flush?.();
    } catch (err) {
      onError(err);
      return;
    }
    if (waiting) waiting.push([data, pos, m.subject]);
    else handler?.(data, pos, m.subject);
  });
  return {
    name: INCIDENT_JOURNAL_NAME,
    lastSeq: () => Promise.resolve(journal.lastPosition(INCIDENT_JOURNAL_STREAM)),
    consume: async (after, take) => {
      waiting = [];
      handler = take;
      try {
        let last = after;
        for await (const r of journal.read(INCIDENT_JOURNAL_STREAM, after)) {
          // The journal's records name no subject: it is the findings' area.
          take(r.data, r.pos, FINDINGS_PATTERN);
          last = r.pos;
        }
        // Appended while it read: what the read gave already is not given again.
        const late = waiting;
        waiting = undefined;
        for (const [data, pos, subject] of late) if (pos > last) take(data, pos, subject);
      } finally {
        waiting = undefined;
      }
      return {
        stop: () => {
          handler = undefined;
          return Promise.resolve();
        },
      };
    },
    close: () => {
      handler = undefined;
      sub.unsubscribe();
    },
  };
}
