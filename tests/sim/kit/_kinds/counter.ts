/** A kind that counts its steps in a module-level variable, outside its state. */
import { defineKind } from "../../../../actors/kind/mod.ts";

let steps = 0;

export default defineKind({
  kind: "kitcounter",
  version: 1,
  config: {},
  findings: [],
  outputs: ["k"],
  kernel: {
    init: () => ({}),
    step(_s, frame) {
      steps++;
      return { columns: { k: Float64Array.from(frame.v, () => steps) } };
    },
    save: () => new Uint8Array(0),
    load: () => ({}),
  },
});
