// PROTOTYPE (reverted in the next commit): runs `troupe bench nab --cv categories` with the
// context options of actors/anomaly/_exp.ts on version 22's kernel, e.g.
//   node bench/_context_prototype.mjs '{"inc":"ctx","cls":1,"order":2,"chain":1}'
// inc / lvl: ctx | min | sum | trans | transmax (how the order-0 novelty and the context's escape
// combine); cls: the increment's context as classes of the last moves (1: five, 2: jump or not,
// 3: seven), else q: the previous increment bin over q (ql: the level's); order: the context's
// length; chain: 1 falls back to order 1 where the longer context was not met; minN: visits a
// context needs before it is used. '' or no argument runs version 22's kernel.
const arg = process.argv[2];
globalThis.__ANOM_EXP = arg ? JSON.parse(arg) : undefined;
process.argv = [process.argv[0], "troupe", "bench", "nab", "--cv", "categories", "--data",
  "../shared/datasets/nab"];
await import("../cli/troupe.mjs");
