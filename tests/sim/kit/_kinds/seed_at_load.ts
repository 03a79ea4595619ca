/** A kind that draws its seed from Math.random when its module loads, and publishes with it. */
import { defineKind } from "../../../../actors/kind/mod.ts";

const seed = Math.random();

export default defineKind({
  kind: "kitseed",
  version: 1,
  config: {},
  findings: [],
  outputs: ["x"],
  kernel: {
    init: () => ({ n: 0 }),
    step(s, frame) {
      const x = Float64Array.from(frame.v, (v) => v + seed * ++s.n);
      return { columns: { x } };
    },
    save: (s) => new Uint8Array(new Float64Array([s.n]).buffer),
    load: (b) => ({ n: new Float64Array(b.slice().buffer)[0]! }),
  },
});
