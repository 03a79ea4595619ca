/**
 * What `troupe watch` prints: the incidents (once they fire, each news a line) or the findings
 * that pass its filters, as readable lines or NDJSON, until `--count` is reached.
 */
import process from "node:process";
import {
  compileChannelGlobs,
  type Finding,
  findingJson,
  formatFinding,
  formatIncident,
  incidentJson,
  incidentNews,
  severityAtLeast,
} from "../collab/mod.ts";
import type { Incident } from "../protocol/mod.ts";
import type { WatchOptions } from "./watch_options.ts";

/**
 * What watch prints: the incidents or findings that pass its filters, until `--count` is reached.
 */
export interface Printer {
  incident(i: Incident, tsUs: number): void;
  finding(f: Finding, seq: number): void;
  /** Lines printed so far. */
  shown(): number;
}

/** The printer for `o`, calling `onCount` once when it has printed `--count` lines. */
export function printerFor(o: WatchOptions, onCount: () => void): Printer {
  const glob = o.channel ? compileChannelGlobs([o.channel])[0]! : undefined;
  const kinds = new Set(o.kinds);
  const lastShown = new Map<string, Incident>();
  let shown = 0;
  let done = false;
  const count = () => {
    shown++;
    if (o.count > 0 && shown >= o.count) {
      done = true;
      onCount();
    }
  };
  return {
    // Group wait, as Alertmanager's: a pending incident (it may be one finding of many to come,
    // or a blip that never fires) is not shown; it is shown once it fires, with its members so far.
    incident(i, tsUs) {
      if (done || i.state === "pending" || !(i.fired || lastShown.has(i.id))) return;
      if (glob && !i.members.some((m) => glob.test(m.channel))) return;
      if (!incidentNews(lastShown.get(i.id), i)) return;
      lastShown.set(i.id, i);
      if (i.state === "resolved") lastShown.delete(i.id);
      if (i.silenced || i.peak_severity < o.minSeverity) return;
      process.stdout.write(
        (o.json ? JSON.stringify(incidentJson(i, tsUs)) : formatIncident(i, tsUs)) + "\n",
      );
      count();
    },
    finding(f, seq) {
      if (done || !kinds.has(f.kind) || (glob && !glob.test(f.channel))) return;
      if (!severityAtLeast(f.severity, o.minSeverity)) return;
      process.stdout.write(
        (o.json ? JSON.stringify(findingJson(f, seq)) : formatFinding(f)) + "\n",
      );
      count();
    },
    shown: () => shown,
  };
}
