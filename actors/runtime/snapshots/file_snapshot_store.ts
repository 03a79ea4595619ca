/**
 * Snapshots in a local directory: one file per stream (`stats=2FBTC-USD.snap` for
 * `stats/BTC-USD`), replaced atomically on each save (written to a temporary file, fsynced,
 * renamed over the old one, the directory fsynced), so a crash leaves either the old snapshot or
 * the new one, never a mix. Each file is CRC-checked when loaded; a damaged one is reported
 * through `onCorrupt` and treated as absent.
 */
import { mkdirSync, readdirSync, readFile, unlinkSync } from "node:fs";
import { open, readdir, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import {
  type CorruptSnapshotInfo,
  encodeSnapshot,
  escapeStreamName,
  listStreams,
  type Snapshot,
  type SnapshotStore,
  storedSnapshot,
  StoreSaves,
} from "./snapshot_store.ts";
import { syncDirAsync } from "../../files/mod.ts";

/** Options of `FileSnapshotStore.open`. */
export interface FileSnapshotStoreOptions {
  /** Called when a stored snapshot cannot be loaded; `load` then returns undefined. */
  onCorrupt?(info: CorruptSnapshotInfo): void;
  /** Whether saves fsync the file and the directory (default true). */
  fsync?: boolean;
}

/** A snapshot file's suffix, `<stream>.snap`: a packed store opened on the directory reads them. */
export const SNAP_FILE_SUFFIX = ".snap";
const SUFFIX = SNAP_FILE_SUFFIX;
const TMP_SUFFIX = ".snap-tmp";
/** Escaped names longer than this would make file names over common file-system limits. */
const FILE_NAME_CHARS_MAX = 240;

/** A SnapshotStore over one directory of files. */
export class FileSnapshotStore implements SnapshotStore {
  readonly dir: string;
  #onCorrupt: ((info: CorruptSnapshotInfo) => void) | undefined;
  #fsync: boolean;
  /** Saves in progress: saves of one stream run in call order. */
  readonly #saves: StoreSaves;
  #tmpCounter = 0;
  /** The folder's fsync under way, and the one saves renamed while it ran wait for. */
  #dirSync: Promise<void> | undefined;
  #dirSyncNext: Promise<void> | undefined;

  private constructor(dir: string, options: FileSnapshotStoreOptions) {
    this.dir = dir;
    this.#onCorrupt = options.onCorrupt;
    this.#fsync = options.fsync ?? true;
    this.#saves = new StoreSaves(`in ${dir}`);
  }

  /**
   * Opens (creating it when needed) the store in `dir`, removing temporary files a crash left.
   * A directory the packed store has written is refused: the snapshots it holds are not files
   * here, and a host that went on without them would find the journal compacted behind them.
   */
  static open(dir: string, options: FileSnapshotStoreOptions = {}): Promise<FileSnapshotStore> {
    mkdirSync(dir, { recursive: true });
    const names = readdirSync(dir);
    const packed = names.find((name) => name.startsWith("snapshots-") && name.endsWith(".pack"));
    if (packed !== undefined) {
      return Promise.reject(
        new Error(
          `Cannot open ${dir} as a file snapshot store: it holds the packed store's ${packed}; ` +
            `open it with snapshots.store "packed" (the packed store reads files as well)`,
        ),
      );
    }
    for (const name of names) {
      if (name.endsWith(TMP_SUFFIX)) unlinkSync(join(dir, name));
    }
    return Promise.resolve(new FileSnapshotStore(dir, options));
  }

  /** Replaces the stream's snapshot atomically; saves of one stream land in call order. */
  save(snapshot: Snapshot): Promise<void> {
    this.#saves.check();
    const bytes = encodeSnapshot(snapshot);
    const path = this.#path(snapshot.stream);
    return this.#saves.run(snapshot.stream, () => this.#write(path, bytes));
  }

  /** The stream's snapshot, or undefined when there is none or it is damaged (reported). */
  async load(stream: string): Promise<Snapshot | undefined> {
    this.#saves.check();
    const path = this.#path(stream);
    let bytes: Uint8Array;
    try {
      bytes = await readWhole(path);
    } catch (err) {
      if ((err as { code?: string }).code === "ENOENT") return undefined;
      throw err;
    }
    const place = { where: path, holder: "file", onCorrupt: this.#onCorrupt };
    return await storedSnapshot(stream, () => bytes, place);
  }

  /** The streams with a snapshot file. */
  async list(): Promise<string[]> {
    this.#saves.check();
    const name = (entry: string) =>
      entry.endsWith(SUFFIX) ? entry.slice(0, -SUFFIX.length) : undefined;
    return listStreams(await readdir(this.dir), name);
  }

  /** Waits for saves in progress, then refuses further use. */
  close(): Promise<void> {
    return this.#saves.close();
  }

  #path(stream: string): string {
    const name = escapeStreamName(stream);
    if (name.length === 0 || name.length > FILE_NAME_CHARS_MAX) {
      throw new RangeError(
        `Cannot store a snapshot of stream ${JSON.stringify(stream)}: its escaped file name ` +
          `must be 1 to ${FILE_NAME_CHARS_MAX} characters, got ${name.length}`,
      );
    }
    return join(this.dir, name + SUFFIX);
  }

  async #write(path: string, bytes: Uint8Array): Promise<void> {
    const tmp = `${path}.${process.pid}.${++this.#tmpCounter}${TMP_SUFFIX}`;
    const file = await open(tmp, "w");
    try {
      await file.writeFile(bytes);
      if (this.#fsync) await file.sync();
    } catch (err) {
      await file.close();
      await unlink(tmp).catch(() => {});
      throw err;
    }
    await file.close();
    await rename(tmp, path);
    if (this.#fsync) await this.#syncDir();
  }

  /**
   * Flushes the folder after a rename. A folder's fsync makes every rename done before it began
   * durable, so the saves that rename while one runs share the next one, which begins once it
   * ends: saves made together cost a few folder fsyncs, not one each, and none resolves before
   * an fsync that began after its rename.
   */
  #syncDir(): Promise<void> {
    if (this.#dirSyncNext) return this.#dirSyncNext;
    const start = (): Promise<void> => {
      const sync = syncDirAsync(this.dir).finally(() => {
        if (this.#dirSync === sync) this.#dirSync = undefined;
      });
      this.#dirSync = sync;
      return sync;
    };
    if (!this.#dirSync) return start();
    const next = this.#dirSync.then(() => {
      this.#dirSyncNext = undefined;
      return start();
    });
    this.#dirSyncNext = next;
    return next;
  }
}

/**
 * A file's bytes, read by the callback form of `readFile`: a start reads a snapshot file an
 * instance, and the promise form makes, closes and finalizes a file handle for each, several times
 * the callback form's work on the host's main thread (docs/channel_cost.md measures it).
 */
function readWhole(path: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    readFile(path, (err, bytes) => (err ? reject(err) : resolve(bytes)));
  });
}
