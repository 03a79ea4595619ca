/**
 * The ids of the inputs an actor instance applied most recently: the same envelope id sent twice
 * (a producer's retry, a copy on another subject) is applied once, whatever the input source, so
 * that two outputs never carry one id for different inputs. Part of the instance's state: it is
 * saved in snapshots and rebuilt by replaying the journal, so a restart decides as the first run
 * did. Bounded: the oldest id goes when a new one comes past `INPUT_IDS_MAX`.
 */
import {
  FINGERPRINT_BYTES,
  fingerprintsOf,
  readSavedFingerprint,
  savedIds,
  saveFingerprintRing,
  saveFingerprints,
  writeFingerprint,
} from "../../../protocol/mod.ts";

/** How many recent input ids an instance remembers. */
export const INPUT_IDS_MAX = 256;

/**
 * How many dropped ids a window keeps while a state capture waits for its instance
 * (`keepDropped`), 128 KiB of fingerprints: the inputs a busy instance applies in a capture's
 * longest wait (its settle time, 5 s by default) at a few thousand inputs a second. Past it, the
 * window says it lost some, and the capture names the instance as not captured.
 */
export const DROPPED_KEPT_MAX = 16_384;

/**
 * Room, in ids, that a window starts with (doubled as it fills, up to its bound): a channel that
 * takes a sample every 15 s fills a window of 256 in an hour, and a host holds a window per
 * instance, so one sized for its bound from the start costs every new instance what it may
 * never use.
 */
const ROOM_IDS_MIN = 8;

/**
 * Starting rooms a window's spread picks among: ROOM_IDS_MIN to ROOM_IDS_MIN + ROOM_SPREAD - 1.
 * A host made a fleet's windows in one round (a fleet's first scrape) would otherwise grow all
 * of them at the same input (the 9th, 17th, ...), a burst of table layouts in one round; spread
 * over ROOM_SPREAD starting rooms, the k-th growth falls on ROOM_SPREAD inputs from 8·2^k + 1 to
 * 15·2^k + 1, an eighth of the windows at each.
 */
const ROOM_SPREAD = 8;

/**
 * The fingerprint of the id being looked up or added, shared by every window on the thread (a
 * lookup runs to its end before another begins): a typed array of its own would cost each of a
 * host's windows some 150 bytes.
 */
const PROBE = new Int32Array(2);

/**
 * A bounded window of recent input ids, oldest first, each kept as its 64-bit fingerprint
 * (protocol/input_id_fingerprint.ts): 8 bytes an id and 4 of table whatever the id's length (a
 * feed batch's frame ids run to 30 to 90 characters, and each instance of a channel keeps its own
 * window of them). The fingerprints sit in a ring and, by their index in it, in an open-addressed
 * table keyed by their low half (linear probing, deletion by backward shift): a Set of the ids
 * would cost ~0.4-1.2 us an input, on every frame's path, and hold each input's id string long
 * enough to be promoted to the old generation and die there.
 */
export class InputIdWindow {
  /** Ids in the window. */
  #size = 0;
  /** Each ring entry's fingerprint: its low half at 2 * index, its high half after it. */
  #fps: Int32Array;
  /** Ring index + 1 of the id hashed to each slot, 0 for an empty slot. */
  #table: Int32Array | Uint16Array;
  #mask: number;
  readonly #max: number;
  #next = 0;
  /** The ids dropped since `keepDropped`, while a state capture waits; none otherwise. */
  #dropped: DroppedIds | undefined;

  /**
   * A window holding `saved` (a saved window's bytes, or ids), the newest `max` of them; throws a
   * RangeError for a bound under 1 or a saved form that is neither. `spreadBy` (the instance's
   * stream) picks the room a window holding fewer ids starts with by its hash (`ROOM_SPREAD`):
   * where the window grows, never what it holds or saves.
   */
  constructor(saved: Uint8Array | readonly string[] = [], max = INPUT_IDS_MAX, spreadBy = "") {
    if (!(Number.isSafeInteger(max) && max > 0)) {
      throw new RangeError(`An input id window must hold at least one id, got ${max}`);
    }
    // Saved bytes are read where they lie (a restore makes no array for them); ids, hashed.
    const bytes = saved instanceof Uint8Array ? saved : undefined;
    const fps = bytes === undefined ? fingerprintsOf(saved) : undefined;
    if (bytes === undefined ? fps === undefined : bytes.byteLength % FINGERPRINT_BYTES !== 0) {
      throw new RangeError(
        "A saved input id window must be 8 bytes an id or a list of ids, got " +
          (bytes ? `${bytes.byteLength} bytes` : "a list of other values"),
      );
    }
    this.#max = max;
    const held = bytes ? bytes.byteLength / FINGERPRINT_BYTES : fps!.length / 2;
    const room = Math.min(max, Math.max(startingRoom(spreadBy), held));
    [this.#fps, this.#table] = newArrays(room, max);
    this.#mask = this.#table.length - 1;
    const view = bytes && new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = Math.max(0, held - max); i < held; i++) {
      if (view) readSavedFingerprint(view, i, PROBE, 0);
      else {
        PROBE[0] = fps![i * 2]!;
        PROBE[1] = fps![i * 2 + 1]!;
      }
      this.#addProbe();
    }
  }

  /**
   * A window restored from `saved` (a snapshot's window) holding all of it, and at least
   * INPUT_IDS_MAX ids: a state capture's holds the ids its window dropped while the capture
   * waited beside its own (`saveWithDropped`), and a replay from it passes all of them over.
   */
  static restoring(saved: Uint8Array | undefined, spreadBy = ""): InputIdWindow {
    const held = saved === undefined ? 0 : Math.floor(saved.byteLength / FINGERPRINT_BYTES);
    return new InputIdWindow(saved, Math.max(INPUT_IDS_MAX, held), spreadBy);
  }

  /** The bytes the window's arrays hold. */
  get bytes(): number {
    return this.#fps.byteLength + this.#table.byteLength;
  }

  /** Ids in the window. */
  get size(): number {
    return this.#size;
  }

  /** Whether `id` is among the recent ids. */
  has(id: string): boolean {
    writeFingerprint(id, PROBE, 0);
    return this.#find() >= 0;
  }

  /** Remembers `id`, forgetting the oldest when the window is full. */
  add(id: string): void {
    writeFingerprint(id, PROBE, 0);
    this.#addProbe();
  }

  /** The window's saved form: its fingerprints, oldest first (for a snapshot). */
  save(): Uint8Array {
    const n = this.#size, first = n < this.#max ? 0 : this.#next;
    return saveFingerprintRing(this.#fps, first, n, this.#max);
  }

  /**
   * Starts keeping the ids the window drops, until as many `endKeepingDropped` calls (one for
   * each capture that waits): a state capture's snapshot must hold every input applied since its
   * ask, and a busy instance may apply more than the window holds before it is taken. What the
   * window holds and decides is unchanged.
   */
  keepDropped(): void {
    (this.#dropped ??= new DroppedIds()).keepers++;
  }

  /** Ends one `keepDropped`; the ids kept are forgotten when none is left. */
  endKeepingDropped(): void {
    const dropped = this.#dropped;
    if (dropped !== undefined && --dropped.keepers <= 0) this.#dropped = undefined;
  }

  /**
   * The window's saved form with the ids it dropped while keeping them before its own (oldest
   * first), or undefined when it dropped more than `DROPPED_KEPT_MAX`; as `save()` when it was
   * not keeping them.
   */
  saveWithDropped(): Uint8Array | undefined {
    const dropped = this.#dropped;
    const own = this.save();
    if (dropped === undefined || dropped.n === 0) return own;
    if (dropped.lost) return undefined;
    const before = saveFingerprints(dropped.fps.subarray(0, dropped.n * 2));
    const all = new Uint8Array(before.byteLength + own.byteLength);
    all.set(before);
    all.set(own, before.byteLength);
    return all;
  }

  /** Adds the fingerprint in `PROBE` unless the window holds it. */
  #addProbe(): void {
    if (this.#find() >= 0) return;
    const at = this.#next;
    if (at * 2 >= this.#fps.length) this.#grow();
    if (this.#size < this.#max) this.#size++;
    else {
      this.#dropped?.add(this.#fps, at);
      this.#remove(this.#slotOf(at));
    }
    const lo = PROBE[0]!;
    this.#fps[at * 2] = lo;
    this.#fps[at * 2 + 1] = PROBE[1]!;
    const table = this.#table, mask = this.#mask;
    let i = lo & mask;
    while (table[i] !== 0) i = (i + 1) & mask;
    table[i] = at + 1;
    this.#next = (at + 1) % this.#max;
  }

  /** Doubles the room for ids (up to the bound): the table laid out again. */
  #grow(): void {
    const room = Math.min(this.#max, this.#fps.length);
    const [fps, table] = newArrays(room, this.#max);
    fps.set(this.#fps);
    this.#fps = fps;
    const mask = table.length - 1;
    // Growth comes only while the window fills, so ring indices 0..size-1 are its ids.
    for (let at = 0; at < this.#size; at++) {
      let i = fps[at * 2]! & mask;
      while (table[i] !== 0) i = (i + 1) & mask;
      table[i] = at + 1;
    }
    this.#table = table;
    this.#mask = mask;
  }

  /** The ring index of the fingerprint in `PROBE`, or -1. */
  #find(): number {
    const table = this.#table, mask = this.#mask, fps = this.#fps;
    const lo = PROBE[0]!, hi = PROBE[1]!;
    for (let i = lo & mask; table[i] !== 0; i = (i + 1) & mask) {
      const at = table[i]! - 1;
      if (fps[at * 2] === lo && fps[at * 2 + 1] === hi) return at;
    }
    return -1;
  }

  /** The table slot that holds ring index `at`. */
  #slotOf(at: number): number {
    const table = this.#table, mask = this.#mask;
    let i = this.#fps[at * 2]! & mask;
    while (table[i] !== at + 1) i = (i + 1) & mask;
    return i;
  }

  /** Empties slot `i`, moving back the entries after it that would no longer be found. */
  #remove(i: number): void {
    const table = this.#table, mask = this.#mask, fps = this.#fps;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (table[j] === 0) break;
      const home = fps[(table[j]! - 1) * 2]! & mask;
      // The entry at j stays unless the hole at i lies between its home slot and j (cyclically).
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      table[i] = table[j]!;
      i = j;
    }
    table[i] = 0;
  }
}

const EMPTY_FPS = new Int32Array(0);

/**
 * The fingerprints a window dropped while a capture waits, oldest first: their array made at the
 * first (a capture asks every instance of its host to keep them, and most drop none).
 */
class DroppedIds {
  fps = EMPTY_FPS;
  n = 0;
  /** Captures waiting that keep them. */
  keepers = 0;
  /** More were dropped than `DROPPED_KEPT_MAX`. */
  lost = false;

  /** Keeps ring entry `at` of `ring`. */
  add(ring: Int32Array, at: number): void {
    if (this.n === DROPPED_KEPT_MAX) {
      this.lost = true;
      return;
    }
    if (this.n * 2 === this.fps.length) {
      const fps = new Int32Array(Math.max(2 * ROOM_IDS_MIN, this.fps.length * 2));
      fps.set(this.fps);
      this.fps = fps;
    }
    this.fps[this.n * 2] = ring[at * 2]!;
    this.fps[this.n * 2 + 1] = ring[at * 2 + 1]!;
    this.n++;
  }
}

/** The room a window spread by `spreadBy` starts with (ROOM_IDS_MIN for ""). */
function startingRoom(spreadBy: string): number {
  if (spreadBy === "") return ROOM_IDS_MIN;
  writeFingerprint(spreadBy, PROBE, 0);
  return ROOM_IDS_MIN + ((PROBE[0]! >>> 0) % ROOM_SPREAD);
}

/**
 * A window's ring of fingerprints with room for `room` ids and its table, views of one buffer
 * (they are made and dropped together: a buffer each would cost a window a second buffer object
 * and backing store). The table's slots are 16-bit where every ring index + 1 fits (a window of
 * the default 256 ids), half the bytes of 32-bit ones.
 */
function newArrays(room: number, max: number): [Int32Array, Int32Array | Uint16Array] {
  const slots = tableSlots(room), wide = max >= 0xffff;
  const buffer = new ArrayBuffer(room * 8 + slots * (wide ? 4 : 2));
  const fps = new Int32Array(buffer, 0, room * 2);
  return [
    fps,
    wide ? new Int32Array(buffer, room * 8, slots) : new Uint16Array(buffer, room * 8, slots),
  ];
}

/** Table slots for `room` ids: at most half full (linear probing's probes stay short). */
function tableSlots(room: number): number {
  let slots = 8;
  while (slots < room * 2) slots *= 2;
  return slots;
}

/**
 * A saved window as a snapshot holds it: its bytes, or the ids of one saved before fingerprints
 * (hashed now); empty for a snapshot from before the window, or for anything else.
 */
export function savedWindowOf(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) {
    return value.byteLength % FINGERPRINT_BYTES === 0 ? value : new Uint8Array(0);
  }
  if (!Array.isArray(value)) return new Uint8Array(0);
  return savedIds(value.filter((id): id is string => typeof id === "string"));
}
