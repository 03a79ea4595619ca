// PROTOTYPE (reverted in the next commit): runs `troupe bench nab --cv categories` with the
// likelihood stage of actors/anomaly/_exp.ts switched on. Usage, from the repository:
//   node bench/_likelihood_prototype.mjs '{"dist":"emp","embins":256,"agg":"max"}'
// Options over {mode:"lik", short:10, long:8640, agg:"mean", dist:"normal", floor:1,
// combine:"lik", range:0, scale:ln(1e10), minK:0, embins:64}; '' or no argument runs main's kernel.
// agg: mean|max over the short window; dist: normal|emp; floor: HTM's mean >= 0.03, var >= 0.0003;
// combine: lik|max|min|mean|prod with the raw score; scale 0: (-log2 tail - 5) / 10; settleRaw: 1
// keys the day of settling on the raw score; where: "binned" calibrates the binned views' bits
// only (before the flat-run and jump views are compared); agg "count" with dist "poisson": the
// count of samples with a raw score above 0 in the short window, its Poisson tail at the channel's
// own rate; mode "err": a view beside the raw score (max), the same stage over the forecast's
// error |x - expected| / MAE (ecap: divided by it and capped at 1, for the empirical bins).
const arg = process.argv[2];
globalThis.__ANOM_EXP = arg
  ? Object.assign({
    mode: "lik", short: 10, long: 8640, agg: "mean", dist: "normal", floor: 1, combine: "lik",
    range: 0, scale: Math.log(1e10), minK: 0, embins: 64,
  }, JSON.parse(arg))
  : undefined;
process.argv = [process.argv[0], "troupe", "bench", "nab", "--cv", "categories", "--data",
  "../shared/datasets/nab"];
await import("../cli/troupe.mjs");
