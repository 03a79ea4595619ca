/**
 * The walkthrough's kind (docs/write_your_own_actor.md §2), as a module of its own for the test
 * kit's module check, and `level(name, bugs)`: the same kind with one of the bugs the kit must
 * catch planted in it.
 */
import { defineKind, type Finding } from "../../../../actors/kind/mod.ts";

interface State {
  mean: number;
  count: number;
  high: boolean;
  limit: number;
}

/** A bug to plant. */
export type LevelBug = "none" | "load_default" | "configure_ignored" | "save_drops_limit";

/** The level kind, as `name`, with `bug` planted. */
export function level(name: string, bug: LevelBug = "none") {
  return defineKind({
    kind: name,
    version: 1,
    config: { limit: { type: "number", default: 3, min: 0 } },
    findings: [{ type: `${name}_high`, measure: "excess", edges: [1, 2, 4, 8], unit: "units" }],
    kernel: {
      init: (config) => ({ mean: 0, count: 0, high: false, limit: config.limit }),
      configure: (s, config) => {
        if (bug !== "configure_ignored") s.limit = config.limit;
      },
      step(s, frame) {
        const findings: Finding[] = [];
        for (let i = 0; i < frame.v.length; i++) {
          const x = frame.v[i]!;
          const excess = x - s.mean - s.limit;
          if (s.count > 10 && !s.high && excess > 0) {
            findings.push({
              type: `${name}_high`,
              ts: frame.t[i]!,
              channel: frame.channel,
              excess,
            });
          }
          s.high = s.count > 10 && excess > 0;
          s.count++;
          s.mean += (x - s.mean) / Math.min(s.count, 100);
        }
        return { findings };
      },
      save: (s) =>
        new Uint8Array(
          new Float64Array(
            bug === "save_drops_limit"
              ? [s.mean, s.count, s.high ? 1 : 0]
              : [s.mean, s.count, s.high ? 1 : 0, s.limit],
          ).buffer,
        ),
      load(bytes) {
        const [mean, count, high, limit] = new Float64Array(bytes.slice().buffer);
        return {
          mean: mean!,
          count: count!,
          high: high === 1,
          limit: bug === "load_default" || limit === undefined ? 3 : limit,
        };
      },
    },
  });
}

export default level("kitlevel");
