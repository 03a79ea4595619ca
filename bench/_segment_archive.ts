/**
 * Keeps every segment a file journal ever had, for an account of the whole journal after the run:
 * each new segment file is hard-linked into an archive directory as soon as it is seen, so when
 * compaction deletes it from the journal (every snapshot covers it) the archive still holds its
 * records, and appends and torn-tail truncations reach both names (one file). Segments are
 * compacted tens of seconds after they are sealed; sweeping every 100 ms sees each one first.
 */
import { existsSync, linkSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** Segments linked at most (a journal that makes more is not a soak's). */
const SEGMENTS_MAX = 100_000;

/** An archive of a file journal directory's segments. */
export class SegmentArchive {
  readonly journalDir: string;
  readonly dir: string;
  readonly #linked = new Set<string>();

  constructor(journalDir: string, dir: string) {
    this.journalDir = journalDir;
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
  }

  /** Segments archived so far. */
  get segments(): number {
    return this.#linked.size;
  }

  /** Segments archived that the journal no longer holds (compaction deleted them). */
  compacted(): number {
    const now = new Set(existsSync(this.journalDir) ? readdirSync(this.journalDir) : []);
    let n = 0;
    for (const name of this.#linked) if (!now.has(name)) n++;
    return n;
  }

  /** Links the segments not archived yet. */
  sweep(): void {
    if (!existsSync(this.journalDir)) return;
    for (const name of readdirSync(this.journalDir)) {
      if (!name.endsWith(".seg") || this.#linked.has(name)) continue;
      if (this.#linked.size >= SEGMENTS_MAX) {
        throw new Error(
          `Segment archive of ${this.journalDir}: more than ${SEGMENTS_MAX} segments`,
        );
      }
      try {
        linkSync(join(this.journalDir, name), join(this.dir, name));
        this.#linked.add(name);
      } catch (err) {
        // Compacted between the listing and the link: the account finds its positions missing.
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      }
    }
  }
}
