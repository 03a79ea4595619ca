/**
 * Where the scan service keeps its scans: one journal per scan, so that deleting a scan deletes
 * its records (disk and memory come back, and a restart does not bring it back), while a scan
 * not deleted survives a restart. On disk each scan is a file journal of its own,
 * `<dir>/<scanId>/`; a delete first renames it to `<scanId>.deleted` (one atomic step, after
 * which the scan is gone for a restart), then removes it, and a removal cut short by a crash is
 * finished at the next start.
 */
import { mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  FileJournal,
  type FileJournalOptions,
  type Journal,
  MemoryJournal,
} from "../runtime/mod.ts";

/** The journals of a service's scans, one per scan. */
export interface ScanJournals {
  /** The scans journaled here (found at start), in no particular order. */
  ids(): Promise<string[]>;
  /** The journal of `scanId`, opened (or made, for a new scan) once and kept open. */
  open(scanId: string): Promise<Journal>;
  /** Deletes the journal of `scanId`, closing it first: the scan is gone, also for a restart. */
  remove(scanId: string): Promise<void>;
  /** Closes every journal open (they stay, for the next start). */
  close(): Promise<void>;
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const DELETED = ".deleted";
/** A scan journal's write buffer: records are a scan's definition and its chunks' results. */
const SCAN_WRITE_BUFFER_BYTES = 64 * 1024;

/** Scan journals in memory (a host with a memory journal, tests): gone with the process. */
export function memoryScanJournals(): ScanJournals {
  const journals = new Map<string, MemoryJournal>();
  return {
    ids: () => Promise.resolve([...journals.keys()]),
    open(scanId) {
      let j = journals.get(scanId);
      if (j === undefined) journals.set(scanId, j = new MemoryJournal());
      return Promise.resolve(j);
    },
    remove(scanId) {
      journals.delete(scanId);
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
}

/** Scan journals as file journals under `dir` (made if missing), one directory per scan. */
export function fileScanJournals(
  dir: string,
  options: Omit<FileJournalOptions, "writeBufferBytes">,
): ScanJournals {
  const open = new Map<string, Promise<FileJournal>>();
  return {
    ids() {
      mkdirSync(dir, { recursive: true });
      const ids: string[] = [];
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (!entry.isDirectory()) continue;
        const name = entry.name;
        if (name.endsWith(DELETED)) rmSync(join(dir, name), { recursive: true, force: true });
        else if (ID.test(name)) ids.push(name);
      }
      return Promise.resolve(ids);
    },
    open(scanId) {
      if (!ID.test(scanId)) {
        return Promise.reject(
          new Error(`Cannot open the journal of scan ${JSON.stringify(scanId)}: not a scan id`),
        );
      }
      let j = open.get(scanId);
      if (j === undefined) {
        j = FileJournal.open(join(dir, scanId), {
          ...options,
          writeBufferBytes: SCAN_WRITE_BUFFER_BYTES,
        });
        open.set(scanId, j);
        j.catch(() => open.delete(scanId));
      }
      return j;
    },
    async remove(scanId) {
      const j = open.get(scanId);
      open.delete(scanId);
      if (j !== undefined) await (await j).close();
      const path = join(dir, scanId);
      try {
        renameSync(path, path + DELETED);
      } catch (err) {
        if ((err as { code?: string }).code === "ENOENT") return;
        throw new Error(
          `Cannot delete the journal of scan ${scanId} (${path}): ${(err as Error).message}`,
          {
            cause: err,
          },
        );
      }
      rmSync(path + DELETED, { recursive: true, force: true });
    },
    async close() {
      const all = [...open.values()];
      open.clear();
      for (const j of all) await (await j).close();
    },
  };
}
