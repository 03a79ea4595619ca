/**
 * Actor failures for the simulator: wraps an actor kind so that its kernel throws, once, on the
 * frames the seed picks, the way a transient bug would. The host must restart the instance from
 * its snapshot and journal (where the failed input already is), apply the input again (it does not
 * fail twice) and carry on, losing nothing and applying nothing twice. The choice is a hash of the
 * seed, the kind and the frame, so it does not depend on the order inputs are seen in; which frames
 * already failed is shared by every host of one run, so a replay never fails where the live apply
 * did.
 */
import type { AnyActorDefinition } from "../actors/runtime/mod.ts";

/** Options of `flakyActor`. */
export interface FlakyOptions {
  seed: number;
  /** Probability that a frame's first step throws. */
  failP: number;
  /** The frames that already failed, shared by every host of a run. */
  failed: Set<string>;
  /** Told about every failure it causes. */
  onFail?: (what: string) => void;
}

/** `def` with a kernel whose `step` throws once on the frames the seed picks. */
export function flakyActor(def: AnyActorDefinition, options: FlakyOptions): AnyActorDefinition {
  const threshold = options.failP * 0x100000000;
  const kernel = def.kernel;
  // The pick is hashString(`${seed}:${kind}:${channel}:${seq0}`), hashed in pieces (FNV-1a goes
  // character by character): the prefix up to the channel is hashed once per channel.
  const prefix = fnv(0x811c9dc5, `${options.seed}:${def.kind}:`);
  const byChannel = new Map<string, number>();
  const wrapped: AnyActorDefinition["kernel"] = {
    init: (config, key) => kernel.init(config, key),
    save: (state) => kernel.save(state),
    load: (bytes) => kernel.load(bytes),
    step(state: unknown, frame) {
      let h = byChannel.get(frame.channel);
      if (h === undefined) byChannel.set(frame.channel, h = fnv(prefix, `${frame.channel}:`));
      if ((fnvDecimal(h, frame.seq0) >>> 0) < threshold) {
        const what = `${def.kind}:${frame.channel}:${frame.seq0}`;
        if (!options.failed.has(what)) {
          options.failed.add(what);
          options.onFail?.(what);
          throw new Error(`simulated failure of the ${def.kind} kernel on ${what}`);
        }
      }
      return kernel.step(state, frame);
    },
  };
  if (kernel.configure) wrapped.configure = (state, config) => kernel.configure!(state, config);
  return { ...def, kernel: wrapped };
}

/** The digits of a decimal number, most significant last (a scratch buffer). */
const digits = new Uint8Array(16);

/**
 * `fnv(h, String(n))` without making the string: for a whole number below 10^16 (a frame's
 * `seq0`), the characters of its decimal digits, most significant first.
 */
function fnvDecimal(h: number, n: number): number {
  if (!(Number.isInteger(n) && n >= 0 && n < 1e16)) return fnv(h, String(n));
  let k = 0;
  do {
    const d = n % 10;
    digits[k++] = 48 + d;
    n = (n - d) / 10;
  } while (n > 0);
  while (k > 0) {
    h ^= digits[--k]!;
    h = Math.imul(h, 0x01000193);
  }
  return h;
}

/** FNV-1a (as hashString) continued from `h` over `s`; not yet made unsigned. */
function fnv(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h;
}
