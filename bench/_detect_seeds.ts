/**
 * `troupe bench detect --seeds`: the list of seeds it reads, and the line of each feed's anomaly
 * labels found by kind, false events and repeats summed over the seeds.
 */
import { BenchOptionError } from "./_bench_option_error.ts";
import type { DetectionScore } from "./_detect_score.ts";

/** `--seeds`: "1-8", "1,3,5" or both ("1-3,7"); whole numbers >= 0, each once. */
export function parseSeeds(raw: string): number[] {
  const seeds: number[] = [];
  const bad = (why: string) =>
    new BenchOptionError(`Option --seeds must be seeds like 1-8 or 1,3,5: ${why}, got "${raw}"`);
  for (const part of raw.split(",")) {
    const m = part.trim().match(/^(\d+)(?:-(\d+))?$/);
    if (!m) throw bad(`"${part}" is not a seed or a range`);
    const from = Number(m[1]), to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) throw bad(`the range "${part}" runs backwards`);
    if (to - from >= 1000) throw bad(`the range "${part}" holds more than 1000 seeds`);
    for (let seed = from; seed <= to; seed++) {
      if (seeds.includes(seed)) throw bad(`seed ${seed} is given twice`);
      seeds.push(seed);
    }
  }
  return seeds;
}

/**
 * Labels found by kind, false events and repeats (events inside a label's window after its first,
 * which F1 counts neither way) summed over several seeds' scores: what a change to a detector
 * moves, in counts (a seed's F1 moves by about 0.001 an event; repeats are extra incidents a user
 * meets, which F1 does not show).
 */
export function describeSummed(name: string, scores: readonly DetectionScore[]): string {
  const byKind: Record<string, { labels: number; found: number }> = {};
  let falsePositives = 0, repeats = 0;
  for (const s of scores) {
    falsePositives += s.falsePositives;
    repeats += s.repeats;
    for (const [k, c] of Object.entries(s.byKind)) {
      const t = byKind[k] ??= { labels: 0, found: 0 };
      t.labels += c.labels;
      t.found += c.found;
    }
  }
  const kinds = Object.entries(byKind).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
  const found = kinds.map(([k, n]) => `${k} ${n.found}/${n.labels}`).join(", ");
  return `${name}: found ${found}; ${falsePositives} false events, ${repeats} ` +
    (repeats === 1 ? "repeat" : "repeats");
}
