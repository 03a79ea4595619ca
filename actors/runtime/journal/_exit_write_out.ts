/**
 * The file journals open in this process, written out as it exits. A file journal buffers its
 * appends and writes them in batches, so an input journaled before it was applied may still be in
 * memory when a step ends the process (`process.exit`, an uncaught error): written here on the way
 * out, it is on disk for recovery to find the input the host died applying (crash_attempts.ts),
 * at no cost to the appends. A SIGKILL runs nothing: what is not written yet is lost, as before.
 * Private to the journal folder.
 */
import process from "node:process";

/** What is written out at exit. */
interface WritesOut {
  writeOut(): void;
}

const open = new Set<WritesOut>();
let hooked = false;

function writeAllOut(): void {
  for (const journal of open) {
    try {
      journal.writeOut();
    } catch {
      // The process is ending: a journal that cannot write keeps what it wrote.
    }
  }
}

/** Writes `journal` out if the process exits while it is open; returns the undo. */
export function writeOutAtExit(journal: WritesOut): () => void {
  if (!hooked) {
    process.on("exit", writeAllOut);
    hooked = true;
  }
  open.add(journal);
  return () => void open.delete(journal);
}
