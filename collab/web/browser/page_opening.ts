/// <reference lib="dom" />
/**
 * Opening the page at what its address names (an alert's generatorURL: `&incident=ID`,
 * `&channels=A,B`, `&from=` and `&to=` as ISO times): the incident's first channel at its window
 * once the incidents panel holds it, or, when it never arrives, the first channel at `from`.
 */
import type { Incident } from "../../../protocol/mod.ts";

/** What the address asks the page to open. */
export interface PageOpening {
  incident: string | undefined;
  channel: string | undefined;
  fromMs: number | undefined;
}

/** How long the page waits for the named incident before opening its channel at `from`. */
export const OPENING_WAIT_MS = 10_000;

/** The opening `search` asks for; undefined when it names none. */
export function pageOpening(search: string): PageOpening | undefined {
  const q = new URLSearchParams(search);
  const incident = q.get("incident") ?? undefined;
  const channel = q.get("channels")?.split(",")[0] || undefined;
  const from = q.get("from");
  const fromMs = from === null ? undefined : Date.parse(from);
  if (incident === undefined && channel === undefined) return undefined;
  return { incident, channel, fromMs: Number.isFinite(fromMs) ? fromMs : undefined };
}

/** Opens `o` through `open`, as a click on the incident (or its channel) would. */
export function openAtAddress(
  o: PageOpening,
  find: (id: string) => Incident | undefined,
  open: (channel: string, tMs: number, incident?: Incident) => void,
): void {
  const started = Date.now();
  const look = () => {
    const incident = o.incident === undefined ? undefined : find(o.incident);
    if (incident) {
      const channel = incident.members[0]?.channel ?? o.channel ?? "";
      return open(channel, Math.round(incident.first_us / 1000), incident);
    }
    if (o.incident !== undefined && Date.now() - started < OPENING_WAIT_MS) {
      return void setTimeout(look, 200);
    }
    if (o.channel !== undefined) open(o.channel, o.fromMs ?? Date.now());
  };
  look();
}
