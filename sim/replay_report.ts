/**
 * The report of an actors' replay as a person reads it: inputs, outputs and pace, where a cut
 * recording ends, dead letters, and what a verification found (the first output that differs).
 */
import {
  mismatchPlace,
  missedByReason,
  namedInstances,
  type ReplayResult,
} from "./recording/mod.ts";

/** The lines of the human report of an actors' replay at `speed`. */
export function replayReport(r: ReplayResult, speed: number): string[] {
  const lines: string[] = [];
  const n = (x: number) => x.toLocaleString("en-US");
  const pace = speed === Infinity ? "max speed" : `${speed}x`;
  const achieved = r.speedAchieved > 0 ? ` (${r.speedAchieved.toFixed(1)}x the recorded pace)` : "";
  lines.push(
    `troupe replay: ${r.kinds.join(", ")} on ${n(r.inputs)} inputs (${n(r.frames)} frames, ${
      n(r.ctl)
    } control; ${n(r.samples)} samples) in ${r.elapsedS.toFixed(2)} s at ${pace}${achieved}: ${
      n(r.rangeOutputs)
    } outputs` +
      (r.warmupInputs ? `; ${n(r.warmupInputs)} earlier inputs applied first, unpaced` : ""),
  );
  if (r.start) lines.push(...startLines(r.start));
  if (r.skippedKinds.length) {
    lines.push(
      `troupe replay: not replayed (unknown to this troupe): ${r.skippedKinds.join(", ")}`,
    );
  }
  if (r.cut) {
    lines.push(
      `troupe replay: the recording is cut at byte ${r.cut.offset} after ${
        n(r.cut.records)
      } complete records (${r.cut.reason}; ${r.cut.bytesLeft} bytes left): replayed those`,
    );
  }
  if (r.deadLetters.recorded || r.deadLetters.replayed) {
    lines.push(
      `troupe replay: dead letters: ${r.deadLetters.recorded} recorded, ` +
        `${r.deadLetters.replayed} in the replay`,
    );
  }
  const unplaced = r.ticks.recorded - r.ticks.placed;
  if (unplaced > 0) {
    lines.push(
      `troupe replay: ${n(unplaced)} of the ${n(r.ticks.recorded)} clock ticks the live host ` +
        `applied were not: each came after an input this replay did not take (before the ` +
        `recording began, or outside --from/--to)`,
    );
  }
  for (const line of r.hostLog) {
    if (!/^recovered \d+ actor instances/.test(line)) lines.push(`troupe replay: host: ${line}`);
  }
  if (r.whole === false && !r.verify) {
    lines.push(
      `troupe replay: the recording was not closed by its writer (no trailer): it holds ${
        n(r.records)
      } records in ${n(r.recordBytes)} bytes; it was cut, or its recorder died`,
    );
  }
  lines.push(...comparedLines(r), ...verifyLines(r.verify));
  return lines;
}

/** What a replay of a recording begun mid-session loaded, and what it did not compare. */
function startLines(s: NonNullable<ReplayResult["start"]>): string[] {
  const n = (x: number) => x.toLocaleString("en-US");
  const lines = [
    `troupe replay: the recording began mid-session: ${n(s.instances)} actor instances loaded ` +
    `from its start state (answered by ${s.hosts.join(", ")}) before the first input; ` +
    `${n(s.outputsBefore)} recorded outputs caused by inputs before it were not compared ` +
    `(that state already holds them)`,
  ];
  for (const { reason, streams } of missedByReason(s.missed)) {
    lines.push(
      streams.length === 1
        ? `troupe replay: ${streams[0]} was not in the start state (${reason}): its outputs may ` +
          "differ"
        : `troupe replay: ${namedInstances(streams)} were not in the start state (${reason}): ` +
          "their outputs may differ",
    );
  }
  if (s.incidentsSkipped) {
    lines.push(
      "troupe replay: incident updates not replayed nor compared: the incident stage's state " +
        "at the start is not in the recording",
    );
  }
  return lines;
}

/**
 * What `--verify` compared, when not everything: the kinds left out and why, or that the
 * recording notes no versions (so a kind changed since it was made may be why outputs differ).
 */
function comparedLines(r: ReplayResult): string[] {
  if (!r.verify) return [];
  if (!r.versionsNoted) {
    return [
      "troupe replay: the recording notes no kind versions (made before recordings noted " +
      "them): every kind's outputs are compared as this troupe's",
    ];
  }
  return r.uncompared.map((u) =>
    `troupe replay: not compared: ${u.kind}'s outputs (${u.reason}); it ran, and the other ` +
    `kinds are compared`
  );
}

/** What `--verify` found, as the report's lines (none without `--verify`). */
function verifyLines(v: ReplayResult["verify"]): string[] {
  const lines: string[] = [];
  const n = (x: number) => x.toLocaleString("en-US");
  if (v?.unclosed) {
    const u = v.unclosed;
    const held = `${n(u.records)} records in ${n(u.bytes)} bytes`;
    lines.push(
      u.accepted
        ? `troupe replay: ACCEPTED UNCLOSED: the recording has no trailer (its writer died, or ` +
          `the file was cut): verifying what it holds, ${held}, as --accept-unclosed asks`
        : `troupe replay: NOT VERIFIED: the recording was not closed by its writer (no trailer): ` +
          `it holds ${held}; it was cut (a partial copy?) or its recorder died ` +
          `(--accept-unclosed verifies what it holds)`,
    );
  }
  if (v) {
    if (v.ok) {
      lines.push(
        `troupe replay: verified: ${n(v.equal)} outputs equal to the recorded ones, byte for byte` +
          (v.olderFormat
            ? ` (${n(v.olderFormat)} recorded in an older format, equal once both are in one)`
            : "") +
          (v.unverifiable
            ? v.outputsCut
              ? `; ${
                n(v.unverifiable)
              } replayed outputs of the last inputs could not be checked (the ` +
                "recorder stopped waiting for them: a host lagged its inputs)"
              : `; ${n(v.unverifiable)} past the cut could not be checked`
            : "") +
          (v.duplicates ? `; ${n(v.duplicates)} repeated recorded outputs skipped` : ""),
      );
    } else if (v.unread) {
      const u = v.unread;
      lines.push(
        `troupe replay: NOT VERIFIED: the recording is damaged at byte ${u.offset} (${u.reason}): ${
          n(u.records)
        } intact records after it were not read, ${n(u.outputs)} of them outputs not compared; ${
          n(v.equal)
        } outputs compared equal before it`,
      );
    }
    if (!v.ok && v.first) {
      const f = v.first;
      const what = f.kind === "different"
        ? `${mismatchPlace(f)} differs ` +
          `(recorded id ${f.recordedId}, replayed id ${f.replayedId})`
        : f.kind === "missing"
        ? `${mismatchPlace(f)} (recorded id ${f.recordedId}) was not produced`
        : `${mismatchPlace(f)} (replayed id ${f.replayedId}) is not in the recording`;
      lines.push(`troupe replay: MISMATCH: ${what}: ${f.detail}`);
      lines.push(
        `troupe replay: ${n(v.equal)} equal, ${n(v.different)} different, ${
          n(v.missing)
        } missing, ${n(v.extra)} extra`,
      );
    }
  }
  return lines;
}
