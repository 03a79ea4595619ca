// PROTOTYPE (reverted in the next commit): runs `troupe bench nab --cv categories` with the
// options of actors/anomaly/_exp.ts on version 23's kernel: the level (lvl), time-of-day (hr) or
// slope (slp) view's novelty costing the escape of the longest context of the last two moves'
// classes met (1; 2: the smaller of that and its own), e.g.
//   node bench/_context_prototype.mjs '{"lvl":1}'
const arg = process.argv[2];
globalThis.__ANOM_EXP = arg ? JSON.parse(arg) : undefined;
process.argv = [process.argv[0], "troupe", "bench", "nab", "--cv", "categories", "--data",
  "../shared/datasets/nab"];
await import("../cli/troupe.mjs");
