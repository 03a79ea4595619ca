/** A kind whose module keeps a reference to Date.now and whose kernel calls it. */
import { defineKind } from "../../../../actors/kind/mod.ts";

const now = Date.now;

export const clockRef = defineKind({
  kind: "kitclockref",
  version: 1,
  config: {},
  findings: [],
  outputs: ["n"],
  kernel: {
    init: () => ({ n: 0, seen: 0 }),
    step(s, frame) {
      s.seen = now();
      const n = new Float64Array(frame.v.length);
      for (let i = 0; i < n.length; i++) n[i] = ++s.n;
      return { columns: { n } };
    },
    save: (s) => new Uint8Array(new Float64Array([s.n]).buffer),
    load: (b) => ({ n: new Float64Array(b.slice().buffer)[0]!, seen: 0 }),
  },
});
