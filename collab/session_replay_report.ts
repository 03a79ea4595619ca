/**
 * The report of the shared sessions a replay rebuilt (session_replay.ts), as `troupe replay`
 * prints it: a line a session, and its JSON with the rebuilt state given by its length. The
 * actors' replay's report is sim's (replay_report.ts).
 */
import type { SessionReplayResult } from "./session_replay.ts";

/** The sessions as JSON (`troupe replay --json`'s `sessions`): the rebuilt state by its length. */
export function sessionReplayJson(sessions: readonly SessionReplayResult[]) {
  return sessions.map(({ state, ...s }) => ({ ...s, state_bytes: state.length }));
}

/** A line per rebuilt session: its updates, checkpoints, size and what verifying it found. */
export function sessionReplayReport(sessions: readonly SessionReplayResult[]): string[] {
  return sessions.map((s) => {
    const v = s.verified;
    return `session ${s.session}: ${s.updates} updates, ${s.checkpoints} checkpoints, ` +
      `${s.state.length} bytes rebuilt` +
      (v === undefined ? "" : v.ok ? "; verified" : `; MISMATCH: ${v.problems.join("; ")}`);
  });
}
