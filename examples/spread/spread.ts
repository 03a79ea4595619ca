/**
 * An example of a kind over a group of channels, written against troupe's library: the spread
 * between two prices, log(a) - log(b) (by default SYM001 and SYM002 of troupe's market feed), taken
 * at the times both legs have a sample (bars of the same close time), scored against its
 * exponentially weighted mean and deviation; a `spread_break` finding goes out when |z| first
 * passes the threshold. One instance per pair, keyed `<a>-<b>`; frames of both legs go to it.
 *
 * The legs arrive as separate frames, in any interleaving; the kernel keeps each leg's samples not
 * yet paired, in order, and pairs them by time alone, so the spreads, and so the findings, do not
 * depend on how the samples were framed or interleaved. A leg that runs ahead waits, up to
 * `pending_max` samples (past that its oldest are dropped and counted).
 */
import { type ConfigOf, defineKind, type Finding } from "troupe";

/** The kind's configuration fields. */
const CONFIG = {
  legs: { type: "names", default: ["SYM001", "SYM002"], max: 2 },
  half_life_samples: { type: "number", default: 100, min: 1, max: 1e6 },
  threshold: { type: "number", default: 4, min: 0.5, max: 100 },
  hysteresis: { type: "number", default: 1, min: 0, max: 100 },
  warmup_samples: { type: "number", default: 200, min: 2, max: 1e6, integer: true },
  pending_max: { type: "number", default: 4096, min: 1, max: 1e6, integer: true },
} as const;

/** The spread's configuration. */
export type SpreadConfig = ConfigOf<typeof CONFIG>;

/** One leg's samples waiting for the other leg: times and values, oldest first. */
interface Pending {
  t: number[];
  v: number[];
}

/** The kernel's state. */
export interface SpreadState {
  legs: readonly [string, string];
  config: SpreadConfig;
  pending: [Pending, Pending];
  mean: number;
  variance: number;
  count: number;
  high: boolean;
  dropped: number;
}

/** The pair's instance key. */
export function pairKey(a: string, b: string): string {
  return `${a}-${b}`;
}

/** The spread kind. */
export const spread = defineKind({
  kind: "spread",
  version: 1,
  config: CONFIG,
  findings: [
    {
      type: "spread_break",
      measure: "z",
      abs: true,
      edges: [5, 6, 8, 12],
      unit: "sd",
      channelField: "pair",
    },
  ],
  route(channel, config) {
    const [a, b] = config.legs;
    return a !== undefined && b !== undefined && (channel === a || channel === b)
      ? [pairKey(a, b)]
      : [];
  },
  kernel: {
    init(config) {
      return {
        legs: [config.legs[0] ?? "SYM001", config.legs[1] ?? "SYM002"],
        pending: [{ t: [], v: [] }, { t: [], v: [] }],
        mean: 0,
        variance: 0,
        count: 0,
        high: false,
        dropped: 0,
        config,
      } as SpreadState;
    },
    configure(state, config) {
      state.config = config;
    },
    step(s, frame) {
      const leg = frame.channel === s.legs[0] ? 0 : 1;
      const p = s.pending[leg];
      for (let i = 0; i < frame.v.length; i++) {
        p.t.push(frame.t[i]!);
        p.v.push(frame.v[i]!);
      }
      while (p.t.length > s.config.pending_max) {
        p.t.shift();
        p.v.shift();
        s.dropped++;
      }
      return { findings: pair(s, s.config) };
    },
    save(state) {
      return new TextEncoder().encode(JSON.stringify(state, (_k, x) => encodeNumber(x)));
    },
    load(bytes): SpreadState {
      return JSON.parse(new TextDecoder().decode(bytes), (_k, x) => decodeNumber(x));
    },
  },
  describeState: (s) => ({ ...s }),
});

/** Pairs the legs' waiting samples by time and scores each spread; returns the findings. */
function pair(s: SpreadState, config: SpreadConfig): Finding[] {
  const [a, b] = s.pending;
  const alpha = 1 - Math.pow(0.5, 1 / config.half_life_samples);
  const findings: Finding[] = [];
  let i = 0, j = 0;
  while (i < a.t.length && j < b.t.length) {
    const ta = a.t[i]!, tb = b.t[j]!;
    // A sample older than the other leg's oldest can no longer find its partner.
    if (ta < tb) i++;
    else if (tb < ta) j++;
    else {
      const x = Math.log(a.v[i]!) - Math.log(b.v[j]!);
      const sd = Math.sqrt(s.variance);
      const z = s.count >= config.warmup_samples && sd > 0 ? (x - s.mean) / sd : 0;
      if (!s.high && Math.abs(z) >= config.threshold) {
        s.high = true;
        findings.push({
          type: "spread_break",
          ts: ta,
          pair: pairKey(s.legs[0], s.legs[1]),
          spread: x,
          mean: s.mean,
          z,
        });
      } else if (s.high && Math.abs(z) < config.threshold - config.hysteresis) {
        s.high = false;
      }
      const d = x - s.mean;
      const w = s.count === 0 ? 1 : alpha;
      s.mean += w * d;
      s.variance = (1 - w) * (s.variance + w * d * d);
      s.count++;
      i++;
      j++;
    }
  }
  a.t.splice(0, i);
  a.v.splice(0, i);
  b.t.splice(0, j);
  b.v.splice(0, j);
  return findings;
}

/**
 * JSON keeps a finite double exactly (shortest round-trip digits) but not NaN, ±Infinity or -0;
 * those are written as tagged strings.
 */
function encodeNumber(x: unknown): unknown {
  if (typeof x !== "number") return x;
  if (Object.is(x, -0)) return "#-0";
  return Number.isFinite(x) ? x : `#${x}`;
}

function decodeNumber(x: unknown): unknown {
  if (typeof x !== "string" || !x.startsWith("#")) return x;
  return x === "#-0" ? -0 : Number(x.slice(1));
}

export default spread;
