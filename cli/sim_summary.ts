/**
 * What `troupe sim` prints at the end as text: each seed's outcome, the failures with the command
 * that reproduces each (the JSON summary is sim's simSummary).
 */
import { leaseTotals, type SeedOutcome, seedPassed, type SimLeaseTotals } from "../sim/mod.ts";
import type { CliOptions } from "./sim_options.ts";

/** `troupe sim`'s summary as text: a seed's run in full, or many seeds' counts; each failure. */
export function summaryText(o: CliOptions, outcomes: SeedOutcome[], elapsedS: number): string {
  const lines: string[] = [];
  const failures = outcomes.filter((x) => !seedPassed(x));
  if (outcomes.length === 1) {
    const { result: r } = outcomes[0]!;
    const s = r.stats;
    lines.push(
      `troupe sim: seed ${r.seed}, faults ${r.faults}: ${
        seedPassed(outcomes[0]!) ? "ok" : "FAILED"
      }`,
      `  ${r.virtualS.toFixed(1)} virtual s in ${(r.realMs / 1000).toFixed(2)} s (${
        speedFactor(r.virtualS / (r.realMs / 1000))
      }); ${s.frames} frames (${s.samples} samples) into ${s.instances} instances on ` +
        `${o.base.hosts} hosts`,
      `  faults: ${s.crashes} crashes, ${s.journalRecordsLost} journal records lost, ` +
        `${s.partitions} partitions; network: ${s.dropped} dropped, ${s.duplicated} duplicated, ` +
        `${s.reordered} reordered of ${s.delivered + s.dropped}`,
      `  outputs: ${s.outputsPublished} published, ${s.outputsExpected} expected; trace sha256 ` +
        `${r.traceHash}`,
    );
    if (s.journalRecordsDamaged > 0) {
      lines.push(
        `  journal damage: ${s.journalRecordsDamaged} records damaged between intact ones`,
      );
    }
    if (s.copies > 0) {
      lines.push(
        `  duplicate ids: ${s.copies} frames logged again, ${s.reapplied} inputs applied again ` +
          `past the id window`,
      );
    }
    if (s.pauses + s.cuts + s.takeovers > 0) lines.push(`  ${leaseLine(s)}`);
  } else {
    const virtualS = outcomes.reduce((a, x) => a + x.result.virtualS, 0);
    lines.push(
      `troupe sim: ${outcomes.length} seeds (${o.seeds[0]}..${
        o.seeds[o.seeds.length - 1]
      }), faults ${o.base.faults!.name}: ${
        outcomes.length - failures.length
      } passed, ${failures.length} failed` +
        ` (${virtualS.toFixed(0)} virtual s in ${elapsedS.toFixed(1)} s${
          o.checkDeterminism ? ", each run twice" : ""
        })`,
    );
    const sum = leaseTotals(outcomes);
    if (sum.pauses + sum.cuts + sum.takeovers > 0) {
      lines.push(`  ${sum.crashes} crashes; ${leaseLine(sum)}`);
    }
  }
  for (const f of failures.slice(0, 50)) {
    const r = f.result;
    lines.push(``, `seed ${r.seed} FAILED:`);
    for (const v of r.violations.slice(0, 10)) {
      lines.push(`  ${v.invariant} at ${(v.atUs / 1e6).toFixed(6)} s: ${v.message}`);
    }
    if (r.violations.length > 10) lines.push(`  ... and ${r.violations.length - 10} more`);
    if (f.nondeterministic) lines.push(`  nondeterministic: ${f.nondeterministic}`);
    lines.push(`  reproduce: ${r.command}${o.checkDeterminism ? " --check-determinism" : ""}`);
    const at = r.trace.findIndex((l) => l.includes(" VIOLATION "));
    const excerpt = at >= 0 ? r.trace.slice(Math.max(0, at - 15), at + 1) : r.excerpt;
    if (outcomes.length === 1 && excerpt.length > 0) {
      lines.push(
        at >= 0
          ? `  the trace up to the first violation (all of it: --trace FILE):`
          : `  the trace up to the first violation found as it happened (all of it: --trace FILE):`,
      );
      for (const l of excerpt) lines.push(`    ${l}`);
    }
  }
  if (failures.length > 50) lines.push(``, `... and ${failures.length - 50} more failing seeds`);
  return lines.join("\n");
}

/** The lease faults of a run (or of many, summed), in one line. */
export function leaseLine(s: SimLeaseTotals): string {
  return `leases: ${s.pauses} pauses, ${s.cuts} cuts from NATS, ${s.takeovers} takeovers, ` +
    `${s.fencedWrites} writes fenced`;
}

/** Virtual seconds per real second, as "12x" or "0.19x" (slower than real time is not "0x"). */
export function speedFactor(ratio: number): string {
  return `${ratio >= 10 ? ratio.toFixed(0) : ratio.toPrecision(2)}x`;
}
