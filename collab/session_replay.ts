/**
 * Rebuilding sessions from a recording: every `troupe.collab.<session>` message a recording holds
 * (what the collaboration servers published: updates, awareness, and checkpoints of the whole
 * document at each compaction and unload) is applied in recorded order to a fresh document per
 * session. Verification compares the rebuilt document with the checkpoints: the last checkpoint
 * must equal the rebuilt document at that point of the recording (same state vector and delete
 * set, i.e. the same content, and the same encoded state once both are re-encoded from a single
 * update), and every checkpoint must be contained in the final document (multi-node recordings
 * interleave nodes' messages, so an earlier checkpoint may run ahead of the recording's order).
 */
import * as Y from "yjs";
import { decodePeerMessage, parseCollabSubject } from "../protocol/mod.ts";

/** What replaying one session gave. */
export interface SessionReplayResult {
  session: string;
  updates: number;
  checkpoints: number;
  /** The rebuilt document's encoded state (one update). */
  state: Uint8Array;
  /** Present under verification: whether it passed and, if not, why. */
  verified?: { ok: boolean; problems: string[] };
}

interface SessionState {
  doc: Y.Doc;
  updates: number;
  checkpoints: Uint8Array[];
  /** Whether the last checkpoint equalled the document when it was recorded. */
  lastCheckpointEqual: boolean | undefined;
  malformed: number;
}

/** Rebuilds sessions from recorded messages, fed in recorded order. */
export class SessionReplay {
  readonly #sessions = new Map<string, SessionState>();

  /** Takes one recorded message; ignores subjects that are not a session's. */
  add(subject: string, data: Uint8Array): void {
    const session = parseCollabSubject(subject);
    if (session === undefined) return;
    let s = this.#sessions.get(session);
    if (!s) {
      s = {
        doc: new Y.Doc(),
        updates: 0,
        checkpoints: [],
        lastCheckpointEqual: undefined,
        malformed: 0,
      };
      this.#sessions.set(session, s);
    }
    try {
      const m = decodePeerMessage(data);
      if (m.kind === "update" || m.kind === "repair") {
        Y.applyUpdate(s.doc, m.payload);
        s.updates++;
      } else if (m.kind === "state") {
        // Compared first: a checkpoint that is not a Yjs update throws here and is counted as
        // malformed, never kept for the containment check of `results`.
        const equal = sameContent(s.doc, m.payload);
        s.checkpoints.push(new Uint8Array(m.payload));
        s.lastCheckpointEqual = equal;
      }
    } catch {
      s.malformed++;
    }
  }

  /** The sessions rebuilt so far; with `verify`, each checked against its checkpoints. */
  results(verify: boolean): SessionReplayResult[] {
    return [...this.#sessions].sort(([a], [b]) => (a < b ? -1 : 1)).map(([session, s]) => {
      const r: SessionReplayResult = {
        session,
        updates: s.updates,
        checkpoints: s.checkpoints.length,
        state: Y.encodeStateAsUpdate(s.doc),
      };
      if (verify) r.verified = check(s);
      return r;
    });
  }
}

function check(s: SessionState): { ok: boolean; problems: string[] } {
  const problems: string[] = [];
  if (s.malformed) problems.push(`${s.malformed} recorded messages could not be decoded`);
  if (s.checkpoints.length === 0) {
    problems.push("the recording holds no checkpoint of the document to verify against");
  } else if (s.lastCheckpointEqual === false) {
    problems.push("the rebuilt document differs from the last recorded checkpoint");
  }
  for (const [i, cp] of s.checkpoints.entries()) {
    if (!contains(s.doc, cp)) {
      problems.push(`checkpoint ${i + 1} holds changes the rebuilt document lacks`);
      break;
    }
  }
  return { ok: problems.length === 0, problems };
}

/** Whether `doc` has exactly the content of the state `update`. */
function sameContent(doc: Y.Doc, update: Uint8Array): boolean {
  const other = new Y.Doc();
  Y.applyUpdate(other, update);
  if (!Y.equalSnapshots(Y.snapshot(doc), Y.snapshot(other))) return false;
  // The same encoded state, once both are encoded from one merged update.
  const a = Y.encodeStateAsUpdate(fromState(Y.encodeStateAsUpdate(doc)));
  const b = Y.encodeStateAsUpdate(fromState(update));
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function fromState(update: Uint8Array): Y.Doc {
  const d = new Y.Doc();
  Y.applyUpdate(d, update);
  return d;
}

/** Whether applying `update` to `doc` would change nothing. */
function contains(doc: Y.Doc, update: Uint8Array): boolean {
  const diff = Y.diffUpdate(update, Y.encodeStateVector(doc));
  const { structs, ds } = Y.decodeUpdate(diff);
  if (structs.length) return false;
  // Deletions: the document must already have deleted everything the update deletes.
  const probe = fromState(Y.encodeStateAsUpdate(doc));
  const before = Y.snapshot(probe);
  Y.applyUpdate(probe, update);
  return ds.clients.size === 0 || Y.equalSnapshots(before, Y.snapshot(probe));
}

/**
 * Reads a recording file and rebuilds its sessions. The recording reader is loaded here, not with
 * this module: `collab/mod.ts` is what a collaboration server starts from, and `sim/mod.ts` brings
 * ~100 modules (the simulator and every actor kind) that serving never uses: their memory would
 * stay resident for the server's life (docs/performance.md, "Figures behind the code").
 */
export async function replaySessions(
  path: string,
  options: { verify: boolean },
): Promise<SessionReplayResult[]> {
  const { RecordingReader } = await import("../sim/mod.ts");
  const reader = await RecordingReader.open(path);
  const replay = new SessionReplay();
  for await (const batch of reader.batches()) {
    for (const m of batch) replay.add(m.subject, m.data);
  }
  return replay.results(options.verify);
}
