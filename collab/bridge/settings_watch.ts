/**
 * The server's side of the `applied` map (applied_settings.ts): subscribes a room to the hosts'
 * settings reports, asks the hosts once when the room opens, and writes the merged reports into
 * the room's document, touching only the keys that changed.
 */
import {
  type Bus,
  decodeSettingsReport,
  settingsQuerySubject,
  type SettingsReport,
  settingsReportSubject,
} from "../../protocol/mod.ts";
import type * as Y from "yjs";
import { type Room, SERVER_ORIGIN } from "../server/mod.ts";
import { type AppliedEntry, appliedEntry, appliedMap, mergeReports } from "../session/mod.ts";

/** Options of `watchAppliedSettings`. */
export interface WatchAppliedOptions {
  bus: Bus;
  /** Called after each report is written (tests). */
  onReport?(report: SettingsReport): void;
  log?(message: string): void;
}

/**
 * Keeps `room`'s applied map equal to what the hosts report: subscribes to their reports, asks
 * them once now, and stops when the room's document is destroyed. Returns a stop.
 */
export function watchAppliedSettings(room: Room, options: WatchAppliedOptions): () => void {
  const reports = new Map<string, SettingsReport>();
  const sub = options.bus.subscribe(settingsReportSubject(), (msg) => {
    if (room.doc.isDestroyed) return;
    let report: SettingsReport;
    try {
      report = decodeSettingsReport(msg.data);
    } catch (err) {
      options.log?.(`a settings report cannot be read: ${(err as Error).message}`);
      return;
    }
    reports.set(report.host, report);
    write(room.doc, mergeReports(reports.values()));
    options.onReport?.(report);
  });
  const stop = () => sub.unsubscribe();
  room.doc.on("destroy", stop);
  try {
    options.bus.publish(settingsQuerySubject(), new Uint8Array(0));
  } catch (err) {
    options.log?.(`cannot ask the hosts for their settings: ${(err as Error).message}`);
  }
  return stop;
}

/** Writes `merged` into the map, touching only the keys that changed. */
function write(doc: Y.Doc, merged: Map<string, AppliedEntry>): void {
  const map = appliedMap(doc);
  doc.transact(() => {
    for (const key of [...map.keys()]) if (!merged.has(key)) map.delete(key);
    for (const [key, entry] of merged) {
      const old = appliedEntry(doc, key);
      const same = old && old.host === entry.host &&
        JSON.stringify(old.settings) === JSON.stringify(entry.settings);
      if (same) continue;
      map.set(key, entry);
    }
  }, SERVER_ORIGIN);
}
