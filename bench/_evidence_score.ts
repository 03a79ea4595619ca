/**
 * `troupe bench evidence`'s scoring, pure: per channel, its detector's alarms and evidence over a
 * recorded run, against the faults the run injected. An alarm in the quiet is one outside every
 * fault and its grace (as `bench pages` counts a page in the quiet, _pages_score.ts); a fault is
 * reached at its first alarm between its start and its end plus the grace.
 */
import type { FaultWindow } from "./_pages_score.ts";

/** One channel's detector over the run: its alarms' and its evidence's samples. */
export interface ChannelEvidence {
  channel: string;
  /** Sample times, ms since the epoch. */
  tMs: Float64Array;
  /** Per sample, the evidence in bits before a restart (NaN: none). */
  bits: Float64Array;
  /** Indices of the samples that alarmed. */
  alarms: readonly number[];
}

/** What scoring needs besides the channels and the faults. */
export interface EvidenceScoreOptions {
  /** The live span (ms since the epoch): history before it is not scored. */
  liveStartMs: number;
  /** After a fault ends, how long its alarms are still its own (ms). */
  graceMs: number;
}

/** An alarm: its channel and time. */
export interface EvidenceAlarm {
  channel: string;
  tMs: number;
}

/** A fault's outcome. */
export interface FaultEvidence {
  name: string;
  /** The first alarm in its window, or null. */
  first: EvidenceAlarm | null;
  /** The fault's start to that alarm, s; null when none. */
  delayS: number | null;
  /** The most evidence any channel reached in its window, and where. */
  mostBits: number;
  mostChannel: string;
}

/** The run's outcome. */
export interface EvidenceScore {
  quiet: EvidenceAlarm[];
  faults: FaultEvidence[];
}

/** Scores the channels' alarms and evidence against `faults`. */
export function scoreEvidence(
  channels: readonly ChannelEvidence[],
  faults: readonly FaultWindow[],
  options: EvidenceScoreOptions,
): EvidenceScore {
  const { liveStartMs, graceMs } = options;
  const faultAt = (t: number) => faults.findIndex((f) => t >= f.startMs && t <= f.endMs + graceMs);
  const quiet: EvidenceAlarm[] = [];
  const out: FaultEvidence[] = faults.map((f) => ({
    name: f.name,
    first: null,
    delayS: null,
    mostBits: -Infinity,
    mostChannel: "",
  }));
  for (const c of channels) {
    for (const i of c.alarms) {
      const t = c.tMs[i]!;
      if (t < liveStartMs) continue;
      const k = faultAt(t);
      if (k < 0) quiet.push({ channel: c.channel, tMs: t });
      else if (out[k]!.first === null || t < out[k]!.first!.tMs) {
        out[k]!.first = { channel: c.channel, tMs: t };
        out[k]!.delayS = (t - faults[k]!.startMs) / 1000;
      }
    }
    for (let i = 0; i < c.tMs.length; i++) {
      const b = c.bits[i]!, k = faultAt(c.tMs[i]!);
      if (k >= 0 && b > out[k]!.mostBits) out[k]!.mostBits = b, out[k]!.mostChannel = c.channel;
    }
  }
  quiet.sort((a, b) => a.tMs - b.tMs || (a.channel < b.channel ? -1 : 1));
  return { quiet, faults: out };
}
