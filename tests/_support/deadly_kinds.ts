/**
 * A kinds module for `troupe run` (`"kinds"` in its config) whose kind takes the host down on
 * purpose, as a team's buggy kind would: kind "deadly" answers every frame with its values as a
 * column `x`, but a frame holding 666 makes it exit the process (code 70), and one holding 777
 * makes its step never return; one holding 778 does too in a process started with
 * `TROUPE_TEST_DEADLY_778=loop` (a host that applied it live, then hangs replaying it at a start).
 */
import process from "node:process";
import { defineKind } from "../../actors/kind/mod.ts";

/** The exit code of a step that meets 666. */
export const DEADLY_EXIT_CODE = 70;

/** Whether 778 never returns in this process. */
const LOOP_778 = process.env.TROUPE_TEST_DEADLY_778 === "loop";

/**
 * Holds the thread for ever, as a step stuck in a loop does, without using the CPU: on Deno a
 * worker thread ended (worker.terminate()) in a loop goes on spinning for as long as its process
 * lives, and a test process would carry each such thread to the end of its run.
 */
function neverReturn(): never {
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}

/** Kind "deadly": column `x` per frame; 666 exits the process, 777 (778) never returns. */
export const deadly = defineKind({
  kind: "deadly",
  version: 1,
  config: {},
  findings: [],
  outputs: ["x"],
  kernel: {
    init() {
      return { frames: 0 };
    },
    configure() {},
    step(state, frame) {
      if (frame.v.includes(666)) process.exit(DEADLY_EXIT_CODE);
      if (frame.v.includes(777) || (LOOP_778 && frame.v.includes(778))) neverReturn();
      state.frames++;
      return { findings: [], columns: { x: Float64Array.from(frame.v) } };
    },
    save(state) {
      return Uint8Array.of(state.frames & 0xff);
    },
    load(bytes) {
      return { frames: bytes[0] ?? 0 };
    },
  },
  describeState: (s) => ({ ...s }),
});
