/**
 * The shared sessions a `troupe replay` rebuilt, as it prints them: a line each, or JSON. The
 * actors' replay's report is sim's (replay_report.ts, what_if_report.ts).
 */
import type { SessionReplayResult } from "../collab/mod.ts";

/** The sessions as `--json` gives them: the rebuilt state by its length. */
export function sessionsJson(sessions: SessionReplayResult[]) {
  return sessions.map(({ state, ...s }) => ({ ...s, state_bytes: state.length }));
}

/** Prints each rebuilt session (a line each, or JSON); returns whether every one verified. */
export function printSessions(sessions: SessionReplayResult[], json: boolean): boolean {
  const ok = sessions.every((s) => s.verified === undefined || s.verified.ok);
  if (json) console.log(JSON.stringify({ ok, sessions: sessionsJson(sessions) }));
  else {
    for (const s of sessions) {
      const v = s.verified;
      console.log(
        `session ${s.session}: ${s.updates} updates, ${s.checkpoints} checkpoints, ` +
          `${s.state.length} bytes rebuilt` +
          (v === undefined ? "" : v.ok ? "; verified" : `; MISMATCH: ${v.problems.join("; ")}`),
      );
    }
  }
  return ok;
}
