/**
 * The series table's channel names as bytes, each followed by ",", one after another in one
 * growing array in the order the channels were given: a request's feed batch writes its channel
 * names joined by "," (protocol/feed_batch.ts), and a sender sends its series in much the order
 * it first sent them, so a batch's names are a few long runs of these bytes, copied whole, not
 * thousands of strings joined anew for every request.
 *
 * The array is never written where a name already handed out lies, except the place of a
 * channel given back and taken again: it grows into a new array, and is compacted into a new
 * array, so a run read from it before stays whole.
 */

/**
 * Where a series' channel name lies in the bytes: its first byte (or -1 when it has none) and its
 * length, kept beside the place so that a batch's runs are read without its string.
 */
export interface NamePlace {
  nameAt: number;
  nameLength: number;
  channel: string;
}

/** Bytes given up (names given a new place) past which the array is compacted, at least. */
const DEAD_BYTES_MIN = 1 << 20;

/** Channel names as bytes, each followed by ",". */
export class ChannelNameBytes {
  /** The bytes: names from 0 to `used`. Replaced, not rewritten, as it grows and is compacted. */
  bytes = new Uint8Array(1 << 12);
  /**
   * Moves on at each compaction, where names change places; growing keeps every name's place
   * (the new array holds what the old one did where it did).
   */
  compactions = 0;
  #used = 0;
  /** Bytes of names given a new place since the last compaction. */
  #dead = 0;

  /**
   * Gives `p` its channel's bytes: in the place it had when that holds the same number of
   * characters, else at the end. A channel of characters past ASCII (a channel name is ASCII;
   * a record read back might not be) has none: its batch joins its names as strings.
   */
  place(p: NamePlace, live: () => Iterable<NamePlace>): void {
    const name = p.channel, n = name.length;
    for (let i = 0; i < n; i++) {
      if (name.charCodeAt(i) >= 0x80) {
        this.#giveUp(p);
        return;
      }
    }
    if (p.nameAt >= 0 && p.nameLength === n) {
      this.#write(name, p.nameAt);
      return;
    }
    this.#giveUp(p);
    if (this.#dead >= DEAD_BYTES_MIN && this.#dead * 2 >= this.#used) this.#compact(live());
    if (this.#used + n + 1 > this.bytes.length) this.#grow(this.#used + n + 1);
    p.nameAt = this.#used;
    p.nameLength = n;
    this.#write(name, this.#used);
    this.#used += n + 1;
  }

  #giveUp(p: NamePlace): void {
    if (p.nameAt >= 0) this.#dead += p.nameLength + 1;
    p.nameAt = -1;
    p.nameLength = 0;
  }

  #write(name: string, at: number): void {
    const bytes = this.bytes;
    for (let i = 0; i < name.length; i++) bytes[at + i] = name.charCodeAt(i);
    bytes[at + name.length] = 0x2c;
  }

  /** Moves the names of `live` together into a new array, each one's `nameAt` updated. */
  #compact(live: Iterable<NamePlace>): void {
    const old = this.bytes;
    const bytes = new Uint8Array(old.length);
    let used = 0;
    for (const p of live) {
      if (p.nameAt < 0) continue;
      const n = p.nameLength + 1;
      bytes.set(old.subarray(p.nameAt, p.nameAt + n), used);
      p.nameAt = used;
      used += n;
    }
    this.bytes = bytes;
    this.#used = used;
    this.#dead = 0;
    this.compactions++;
  }

  #grow(needed: number): void {
    let size = this.bytes.length * 2;
    while (size < needed) size *= 2;
    const bytes = new Uint8Array(size);
    bytes.set(this.bytes.subarray(0, this.#used));
    this.bytes = bytes;
  }
}
