/**
 * Helpers for the feed suites: pulling a feed's steps into whole series per channel, and into the
 * exact bytes an injector would publish.
 */
import { encodeFrame, validateFrame } from "../../../protocol/mod.ts";
import type { Feed } from "../../../sim/feeds/feed.ts";

/** Whole series per channel after `steps` steps, checking the frame invariants on the way. */
export interface Series {
  t: Float64Array;
  v: Float64Array;
}

/** Pulls `steps` steps and concatenates each channel's frames, checking seq0 and time order. */
export function collect(feed: Feed, steps: number): Map<string, Series> {
  const parts = new Map<string, { t: number[]; v: number[] }>();
  for (const channel of feed.channels) parts.set(channel, { t: [], v: [] });
  for (let s = 0; s < steps; s++) {
    const frames = feed.next();
    if (frames.length === 0) break;
    if (frames.length !== feed.channels.length) {
      throw new Error(`step ${s}: ${frames.length} frames for ${feed.channels.length} channels`);
    }
    for (const [c, frame] of frames.entries()) {
      validateFrame(frame);
      const part = parts.get(frame.channel)!;
      if (frame.channel !== feed.channels[c]) {
        throw new Error(
          `step ${s}: frame ${c} is of "${frame.channel}", not "${feed.channels[c]}"`,
        );
      }
      if (frame.seq0 !== part.t.length) {
        throw new Error(`${frame.channel}: seq0 ${frame.seq0} after ${part.t.length} samples`);
      }
      const last = part.t[part.t.length - 1];
      if (last !== undefined && frame.t.length && frame.t[0]! < last) {
        throw new Error(`${frame.channel}: time goes back from ${last} to ${frame.t[0]}`);
      }
      for (let i = 0; i < frame.t.length; i++) {
        part.t.push(frame.t[i]!);
        part.v.push(frame.v[i]!);
      }
    }
  }
  const out = new Map<string, Series>();
  for (const [channel, p] of parts) {
    out.set(channel, { t: Float64Array.from(p.t), v: Float64Array.from(p.v) });
  }
  return out;
}

/** The encoded frames of `steps` steps, concatenated: what an injector would publish. */
export function feedBytes(feed: Feed, steps: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  for (let s = 0; s < steps; s++) {
    for (const frame of feed.next()) {
      chunks.push(encodeFrame(frame, { id: `${frame.channel}:${frame.seq0}`, src: "test" }));
    }
  }
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Whether two byte arrays are equal. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Mean of `v` over indices [from, to). */
export function mean(v: Float64Array, from = 0, to = v.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += v[i]!;
  return s / (to - from);
}
