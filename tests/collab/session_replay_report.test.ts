/**
 * The report of the sessions a replay rebuilt: a line a session saying what verifying it found,
 * and the JSON `troupe replay --json` prints, the rebuilt state given by its length.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  sessionReplayJson,
  sessionReplayReport,
  type SessionReplayResult,
} from "../../collab/mod.ts";

const test = suite("session replay report");

const sessions: SessionReplayResult[] = [
  { session: "ops", updates: 31, checkpoints: 2, state: new Uint8Array(120) },
  {
    session: "main",
    updates: 5,
    checkpoints: 1,
    state: new Uint8Array(40),
    verified: { ok: true, problems: [] },
  },
  {
    session: "desk",
    updates: 9,
    checkpoints: 3,
    state: new Uint8Array(7),
    verified: { ok: false, problems: ["checkpoint 2 is not in the document", "1 undecodable"] },
  },
];

test("sessionReplayReport() gives a line a session, with what verifying it found", () => {
  assert.equal(sessionReplayReport(sessions), [
    "session ops: 31 updates, 2 checkpoints, 120 bytes rebuilt",
    "session main: 5 updates, 1 checkpoints, 40 bytes rebuilt; verified",
    "session desk: 9 updates, 3 checkpoints, 7 bytes rebuilt; MISMATCH: checkpoint 2 is not in " +
    "the document; 1 undecodable",
  ]);
});

test("sessionReplayJson() gives the rebuilt state's length in place of its bytes", () => {
  assert.equal(sessionReplayJson(sessions.slice(1, 2)), [
    {
      session: "main",
      updates: 5,
      checkpoints: 1,
      verified: { ok: true, problems: [] },
      state_bytes: 40,
    },
  ]);
});

test.run();
