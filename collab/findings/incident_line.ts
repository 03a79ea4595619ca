/**
 * An incident in words, for people: the line `troupe watch` prints for each change of an incident,
 * `troupe incidents` prints for each incident it lists and the page's incidents panel shows for
 * each incident, and the JSON object both commands print with `--json`. One severity, the
 * incident's peak on its kind's 1-5 scale (protocol/severity.ts). Pure: no `node:` import, so it
 * bundles for the browser.
 */
import type { Incident } from "../../protocol/mod.ts";
import { lineTime, type LineTimeOptions } from "./finding.ts";
import type { AckEntry } from "../session/mod.ts";

/** Member channels named in a line, at most (the rest are counted). */
export const LINE_CHANNELS_MAX = 4;

/** How the page marks an incident line beyond what the incident says. */
export interface IncidentLineOptions extends LineTimeOptions {
  /**
   * Silenced in this view (the page also counts the session's silences in force); default its own.
   */
  silenced?: boolean;
  /** More marks, after the incident's own (the page's `acked by ana`). */
  marks?: readonly string[];
}

/** The states a line shows: an incident's, and `dropped` for one resolved without firing. */
export const LINE_STATES = ["pending", "firing", "resolved", "dropped"] as const;

/** A state a line shows. */
export type LineState = (typeof LINE_STATES)[number];

/** The state `i`'s line shows: `dropped` when it resolved without firing, else its own. */
export function lineState(i: Incident): LineState {
  return i.state === "resolved" && !i.fired ? "dropped" : i.state;
}

/**
 * One readable line: time (of the update; `troupe incidents` and the page give the first
 * finding's), state, kind, members, severity, findings, id, and its marks in parentheses.
 */
export function formatIncident(i: Incident, tsUs: number, opts: IncidentLineOptions = {}): string {
  const time = lineTime(tsUs, opts);
  const names = i.members.slice(0, LINE_CHANNELS_MAX).map((m) => m.channel);
  const more = i.members.length - names.length;
  const members = `${i.members.length} channel${i.members.length === 1 ? "" : "s"}: ` +
    names.join(", ") + (more > 0 ? ` +${more}` : "");
  const state = lineState(i);
  const flags = [
    opts.silenced ?? i.silenced ? "silenced" : "",
    i.links.length ? `linked ${i.links.join(", ")}` : "",
    ...opts.marks ?? [],
  ].filter(Boolean);
  return `${time}  ${state.padEnd(8)} ${
    i.kind.padEnd(9)
  } ${members}  [severity ${i.peak_severity}, ` +
    `${i.findings} finding${i.findings === 1 ? "" : "s"}]  ${i.id}` +
    (flags.length ? `  (${flags.join("; ")})` : "");
}

/** The JSON object of an incident: the incident with its times also as ISO strings. */
export function incidentJson(i: Incident, tsUs: number): Record<string, unknown> {
  return {
    type: "incident",
    time: new Date(tsUs / 1000).toISOString(),
    ts_us: tsUs,
    ...i,
    first: new Date(i.first_us / 1000).toISOString(),
    last: new Date(i.last_us / 1000).toISOString(),
  };
}

/**
 * The marks an acknowledgement puts on an incident's line: `acked by ana (looking)`, or
 * `ack refused: ...` when the stage did not hold the incident; none without an ack.
 */
export function ackMarks(ack: AckEntry | undefined): string[] {
  if (ack === undefined) return [];
  if (ack.status === "error") return [`ack refused: ${ack.detail ?? "by the stage"}`];
  return [`acked by ${ack.by}${ack.note ? ` (${ack.note})` : ""}`];
}

/**
 * An acknowledgement in an incident's JSON: who, when (milliseconds and ISO), the note and the
 * stage's answer (`pending`, `ok`, `error` with its detail); null without one.
 */
export function ackJson(ack: AckEntry | undefined): Record<string, unknown> | null {
  if (ack === undefined) return null;
  return {
    by: ack.by,
    at: new Date(ack.at_ms).toISOString(),
    at_ms: ack.at_ms,
    note: ack.note,
    status: ack.status ?? "pending",
    ...(ack.detail === undefined ? {} : { detail: ack.detail }),
  };
}

/**
 * Whether an update is worth a line to someone watching, given the last one shown of its
 * incident: a new incident, a change of state or of silence, a new member, a higher severity.
 * Repeat findings of its members are not.
 */
export function incidentNews(prev: Incident | undefined, next: Incident): boolean {
  return prev === undefined || prev.state !== next.state || prev.silenced !== next.silenced ||
    prev.members.length !== next.members.length || prev.peak_severity !== next.peak_severity;
}
