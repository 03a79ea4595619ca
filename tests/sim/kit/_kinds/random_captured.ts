/**
 * A kind whose module keeps a reference to Math.random (`const rnd = Math.random`) and whose
 * kernel calls it: checkPure's shut doors miss it, and its draws do not show in what it publishes.
 */
import { defineKind } from "../../../../actors/kind/mod.ts";

const rnd = Math.random;

export default defineKind({
  kind: "kitrndref",
  version: 1,
  config: {},
  findings: [],
  outputs: ["n"],
  kernel: {
    init: () => ({ n: 0, jitter: 0 }),
    step(s, frame) {
      s.jitter = rnd(); // kept, never published
      const n = new Float64Array(frame.v.length);
      for (let i = 0; i < n.length; i++) n[i] = ++s.n;
      return { columns: { n } };
    },
    save: (s) => new Uint8Array(new Float64Array([s.n]).buffer),
    load: (b) => ({ n: new Float64Array(b.slice().buffer)[0]!, jitter: 0 }),
  },
});
