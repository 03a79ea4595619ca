/**
 * The units a team sets for its channels, in the session document's `units` map: a key is a
 * channel's name (`api-latency`) or a pattern of names with `*` for any run of characters
 * (`*-latency`, `SYM*`), and its value the unit shown beside the channel's values (`ms`, `USD`).
 * The dashboard shows a channel's set unit in its card's header, over its value labels and at the
 * shared crosshair, else the unit its name says (protocol/channel_unit.ts). A name wins over a
 * pattern, and of several patterns the one with the most characters besides `*` (the narrowest),
 * so `api-*` beats `*`; a tie goes to the key first by code point, the same on every page. The
 * server checks every editor's write with `checkUnit` (session_schema.ts); a viewer's is refused
 * like any other write of theirs. Pure: it bundles for the browser.
 */
import type * as Y from "yjs";
import { fail } from "./session_doc.ts";

/** Bounds on the set units. */
export const UNIT_LIMITS = {
  /** A unit's characters, at most (`req/s`, `°C`, `USD`, `MiB/s`). */
  unit_chars_max: 16,
  /** Entries of the `units` map, at most. */
  units_max: 256,
} as const;

/** A key of the `units` map: a channel's name, or a pattern of names with `*`. */
const UNIT_KEY = /^[A-Za-z0-9_*-]{1,64}$/;
/** A unit: printable, no space at either end, no control or format character. */
const UNIT_TEXT = /^[^\s\p{C}](?:[^\p{C}]*[^\s\p{C}])?$/u;

/** Checks one entry of the `units` map (the schema's check); throws SessionDocError. */
export function checkUnit(key: string, value: unknown): string {
  if (!UNIT_KEY.test(key)) {
    fail(`units.${key}`, "keyed by a channel or a pattern: 1 to 64 of A-Z a-z 0-9 _ - *", key);
  }
  if (
    typeof value !== "string" || value.length > UNIT_LIMITS.unit_chars_max ||
    !UNIT_TEXT.test(value)
  ) {
    fail(
      `units.${key}`,
      `a unit of 1 to ${UNIT_LIMITS.unit_chars_max} printable characters, ` +
        "no space at either end",
      value,
    );
  }
  return value;
}

/**
 * Sets the unit of the channels `key` names (a name or a pattern), or clears it with `""` (they
 * show the unit their names say again). Checked first: nothing is written when it does not fit.
 */
export function setUnit(units: Y.Map<unknown>, key: string, unit: string): void {
  if (unit === "") {
    checkUnit(key, "x"); // the key alone
    units.delete(key);
    return;
  }
  checkUnit(key, unit);
  if (!units.has(key) && units.size >= UNIT_LIMITS.units_max) {
    fail("units", `a map of at most ${UNIT_LIMITS.units_max} units`, units.size);
  }
  units.set(key, unit);
}

/** The units set, by key (an entry that does not fit, stored before the server checked, is left
 *  out). */
export function unitsOf(units: Y.Map<unknown>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of units.entries()) {
    try {
      out.set(k, checkUnit(k, v));
    } catch {
      // not shown: the server refuses such a write now
    }
  }
  return out;
}

/** The unit set for `channel` in `units` (a name first, then the narrowest pattern), or
 *  undefined when none is. */
export function unitFor(units: ReadonlyMap<string, string>, channel: string): string | undefined {
  const exact = units.get(channel);
  if (exact !== undefined) return exact;
  let best: { key: string; weight: number } | undefined;
  for (const key of units.keys()) {
    if (!key.includes("*") || !globOf(key).test(channel)) continue;
    const weight = key.replaceAll("*", "").length;
    if (!best || weight > best.weight || (weight === best.weight && key < best.key)) {
      best = { key, weight };
    }
  }
  return best && units.get(best.key);
}

function globOf(pattern: string): RegExp {
  // Keys hold only A-Z a-z 0-9 _ - *: `-` is literal outside a class, nothing else to escape.
  return new RegExp(`^${pattern.replaceAll("*", ".*")}$`);
}
