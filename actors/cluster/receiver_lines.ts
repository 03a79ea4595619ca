/**
 * What a command prints of a metrics receiver (start_receiver.ts): its line, and the
 * `remote_write` block for prometheus.yml, printed, or, when it holds the receiver's credentials,
 * written to a file of the data directory whose path is printed.
 */
import { describeError } from "../runtime/mod.ts";
import { writeReceiverBlock } from "./data_dir/mod.ts";
import type { StartedReceiver } from "./start_receiver.ts";

/**
 * What a command prints of a started receiver: its line, and the block to paste, or, when the
 * block holds a secret, where in `dataDir` it is written for the user to copy from.
 */
export function receiverLines(receiver: StartedReceiver, dataDir: string): string {
  if (!receiver.secret) return `${receiver.line}\n${receiver.block}`;
  let path: string;
  try {
    path = writeReceiverBlock(dataDir, receiver.block);
  } catch (err) {
    // The receiver runs on: only the block, which holds a secret, is not shown.
    return `${receiver.line}; cannot write the remote_write block for prometheus.yml to ` +
      `${dataDir}: ${describeError(err)}`;
  }
  return `${receiver.line}; the remote_write block for prometheus.yml, with the receiver's ` +
    `credentials, is in ${path} (readable by this user only)`;
}
