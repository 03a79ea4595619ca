/**
 * Test support: whether a file journal's segment files hold some text, read as plain bytes while
 * the host writing them (another process) holds the directory's lock. A test that kills the host
 * with `kill -9` and needs certain records to survive waits for their bytes here (bytes written
 * are in the page cache, which outlives the process) instead of sleeping for the write interval,
 * which a loaded machine may stretch past any fixed wait.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Whether some `.seg` file in `journalDir` holds the UTF-8 bytes of `text`. */
export function segmentsHold(journalDir: string, text: string): boolean {
  const wanted = Buffer.from(text, "utf8");
  let names: string[];
  try {
    names = readdirSync(journalDir).filter((f) => f.endsWith(".seg"));
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return false; // not made yet
    throw err;
  }
  return names.some((name) => readFileSync(join(journalDir, name)).includes(wanted));
}
