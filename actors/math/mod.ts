/**
 * The math kernels and feed generators share, computed the same, bit for bit, on every runtime
 * (see portable_math.ts). A folder of its own so that a light caller (the simulator's PRNG, the
 * bench injector) does not load the actor kinds to get it.
 */
export * from "./portable_math.ts";
export * from "./weekendness.ts";
