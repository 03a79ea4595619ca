/**
 * A kinds module for `troupe run` (`"kinds"` in its config) whose kind takes the host down on
 * purpose, as a team's buggy kind would: kind "deadly" answers every frame with its values as a
 * column `x`, but a frame holding 666 makes it exit the process (code 70), and one holding 777
 * makes its step loop forever; one holding 778 does too in a process started with
 * `TROUPE_TEST_DEADLY_778=loop` (a host that applied it live, then hangs replaying it at a start).
 */
import process from "node:process";
import { defineKind } from "../../actors/kind/mod.ts";

/** The exit code of a step that meets 666. */
export const DEADLY_EXIT_CODE = 70;

/** Whether 778 loops for ever in this process. */
const LOOP_778 = process.env.TROUPE_TEST_DEADLY_778 === "loop";

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
      if (frame.v.includes(777) || (LOOP_778 && frame.v.includes(778))) {
        // deno-lint-ignore no-empty
        while (frame.v.length > 0) {}
      }
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
