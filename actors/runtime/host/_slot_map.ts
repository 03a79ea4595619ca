/**
 * The host's slots by stream, counting each time one is taken out or put in place of another
 * (`generation`): what was found in it stays the slot of its stream while the count stands, so
 * a feed input's targets are looked up once per route rather than once per input
 * (mailboxes.ts). Adding a stream's first slot leaves the count, and what was found, as it is.
 */
import type { Slot } from "../instances/mod.ts";

/** Slots by stream, with a count of removals and replacements, and of slots by kind. */
export class SlotMap extends Map<string, Slot> {
  /** Moves on each delete, clear, and set over a stream that has a slot. */
  generation = 0;
  /** How many slots of each kind the map holds (a kind none is left of: 0). */
  readonly kinds = new Map<string, number>();

  override set(stream: string, slot: Slot): this {
    const old = this.get(stream);
    if (old !== undefined) {
      this.generation++;
      this.#count(old.def.kind, -1);
    }
    this.#count(slot.def.kind, 1);
    return super.set(stream, slot);
  }

  /** `set` for a stream the caller found no slot of: nothing to replace, so none looked up. */
  add(stream: string, slot: Slot): this {
    this.#count(slot.def.kind, 1);
    return super.set(stream, slot);
  }

  override delete(stream: string): boolean {
    this.generation++;
    const old = this.get(stream);
    if (old !== undefined) this.#count(old.def.kind, -1);
    return super.delete(stream);
  }

  override clear(): void {
    this.generation++;
    this.kinds.clear();
    super.clear();
  }

  #count(kind: string, by: number): void {
    this.kinds.set(kind, (this.kinds.get(kind) ?? 0) + by);
  }
}
