/**
 * The custom range's times as typed: `YYYY-MM-DD HH:MM` (seconds optional), always UTC, which the
 * field says. A browser's `datetime-local` showed `mm/dd/yyyy, --:-- --` in the browser's locale
 * and clock while the page read it as UTC, with nothing on screen saying so. Pure: text in,
 * seconds out, and back.
 */

const UTC_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/;

/** How a time is typed (the fields' placeholder). */
export const UTC_INPUT_FORMAT = "YYYY-MM-DD HH:MM";

/** Seconds since the epoch of `text` (UTC); throws naming `field` and the text when it is not one,
 *  or names no such moment (`2026-02-30 10:00`). */
export function parseUtcInput(text: string, field: string): number {
  const m = UTC_TIME.exec(text.trim());
  const [y, mo, d, h, mi, s] = (m ?? []).slice(1).map((x) => Number(x ?? 0));
  const ms = m ? Date.UTC(y!, mo! - 1, d!, h!, mi!, s!) : NaN;
  // A date that does not exist comes back as another (`02-30` as `03-02`): refused.
  if (!m || formatUtcInput(ms / 1000, m[6] !== undefined) !== text.trim().replace("T", " ")) {
    throw new Error(`${field} ${JSON.stringify(text)} is not a UTC time ${UTC_INPUT_FORMAT}`);
  }
  return ms / 1000;
}

/** `tS` (seconds since the epoch) as typed: `2026-11-24 13:05`, with `:SS` when `seconds`. */
export function formatUtcInput(tS: number, seconds = false): string {
  const iso = new Date(Math.floor(tS) * 1000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, seconds ? 19 : 16)}`;
}
