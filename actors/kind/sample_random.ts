/**
 * Randomness for a kernel that keeps replay exact and framing irrelevant: a counter-based
 * generator (in the manner of Random123's Philox, Salmon et al. 2011), whose draw is a hash of
 * where it is asked, the channel, the sample's sequence number and the draw's number at that
 * sample, rather than the next value of a stream. So the same sample draws the same number
 * however the samples are framed, after any save and load, on any thread, with no generator
 * state to save. The hash is murmur3's 32-bit finaliser over 32-bit words, in integer arithmetic
 * only, so every runtime gives the same bits.
 */

/** murmur3's fmix32: a bijection of 32-bit integers that mixes every bit into every other. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over a string's UTF-16 code units, then mixed. */
export function channelHash(channel: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < channel.length; i++) {
    h = Math.imul(h ^ channel.charCodeAt(i), 0x01000193);
  }
  return fmix32(h >>> 0);
}

function combine(h: number, word: number): number {
  return fmix32((Math.imul(h, 0x9e3779b1) ^ word) >>> 0);
}

/**
 * A number in [0, 1) with 53 random bits, fixed by `channelKey` (channelHash of the channel), the
 * sample's sequence number `seq` (a non-negative integer below 2^53) and the draw's number `draw`
 * at that sample.
 */
export function sampleRandom(channelKey: number, seq: number, draw = 0): number {
  const lo = seq >>> 0;
  const hi = Math.floor(seq / 0x1_0000_0000) >>> 0;
  const h = combine(combine(combine(channelKey, lo), hi), draw >>> 0);
  const a = combine(h, 0x68e31da4) >>> 5; // 27 bits
  const b = combine(h, 0xb5297a4d) >>> 6; // 26 bits
  return (a * 67108864 + b) / 9007199254740992;
}
