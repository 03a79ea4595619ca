/**
 * The seeded PRNG that feeds, the simulator and tests draw from (see prng.ts). A folder of its own
 * so that a light caller (the bench injector) gets it without loading the simulator.
 */
export * from "./prng.ts";
