/**
 * The host's slots by stream, counting each time one is taken out or put in place of another
 * (`generation`): what was found in it stays the slot of its stream while the count stands, so
 * a feed input's targets are looked up once per route rather than once per input
 * (mailboxes.ts). Adding a stream's first slot leaves the count, and what was found, as it is.
 */
import type { Slot } from "../instances/mod.ts";

/** Slots by stream, with a count of removals and replacements. */
export class SlotMap extends Map<string, Slot> {
  /** Moves on each delete, clear, and set over a stream that has a slot. */
  generation = 0;

  override set(stream: string, slot: Slot): this {
    if (this.has(stream)) this.generation++;
    return super.set(stream, slot);
  }

  override delete(stream: string): boolean {
    this.generation++;
    return super.delete(stream);
  }

  override clear(): void {
    this.generation++;
    super.clear();
  }
}
