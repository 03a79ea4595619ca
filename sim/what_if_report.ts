/**
 * The report of a what-if replay (new settings, compared per kind and key with the recording):
 * per kind, the series and events compared and the incidents that appeared and disappeared.
 */
import type { Incident, OutputDiffReport } from "./recording/mod.ts";

/** Incidents listed per kind and direction, at most. */
const INCIDENTS_SHOWN = 20;

/** The lines of a what-if: per kind, the series and events compared, the incidents that moved. */
export function whatIfReport(diff: OutputDiffReport): string[] {
  const lines = [
    diff.same
      ? "troupe replay: what-if: the new settings change no output"
      : "troupe replay: what-if, per kind (recorded -> with the new settings):",
  ];
  const n = (x: number) => x.toLocaleString("en-US");
  for (const d of diff.kinds) {
    const series = d.seriesKeys === 0
      ? ""
      : `per-sample outputs of ${n(d.seriesKeys)} ${d.seriesKeys === 1 ? "key" : "keys"}: ${
        n(d.seriesSame)
      } the same, ${n(d.seriesChanged.length)} changed${
        d.seriesChanged.length
          ? ` (${d.seriesChanged.slice(0, 8).join(", ")}${
            d.seriesChanged.length > 8 ? ", ..." : ""
          })`
          : ""
      }; `;
    lines.push(
      `  ${d.kind}: ${series}events ${n(d.eventsRecorded)} -> ${n(d.eventsReplayed)}: ` +
        `${n(d.appeared.length)} appeared, ${n(d.disappeared.length)} disappeared, ` +
        `${n(d.eventsChanged)} changed, ${n(d.eventsSame)} the same`,
    );
    for (const [sign, list] of [["+", d.appeared], ["-", d.disappeared]] as const) {
      for (const i of list.slice(0, INCIDENTS_SHOWN)) {
        lines.push(`    ${sign} ${describeIncident(i)}`);
      }
      if (list.length > INCIDENTS_SHOWN) {
        lines.push(`    ${sign} ... and ${n(list.length - INCIDENTS_SHOWN)} more`);
      }
    }
  }
  return lines;
}

/** An incident that appeared or disappeared, on one line. */
function describeIncident(i: Incident): string {
  const score = i.score === undefined ? "" : ` score ${Number(i.score.toPrecision(3))}`;
  const state = i.state === undefined ? "" : ` ${i.state}`;
  return `${i.type} ${i.channel} at ${new Date(i.ts / 1000).toISOString()}${state}${score}`;
}
