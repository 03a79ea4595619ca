/** The progress bar `troupe replay` draws on a terminal while it replays. */
import process from "node:process";
import type { ReplayProgress } from "../sim/mod.ts";

/** Progress on stderr, on a terminal only: the share of the file read, inputs, outputs. */
export class ReplayBar {
  readonly #tty = process.stderr.isTTY === true;
  #drawn = false;

  update(p: ReplayProgress): void {
    if (!this.#tty) return;
    const f = p.fileBytes > 0 ? Math.min(1, p.bytes / p.fileBytes) : 1;
    const width = 30;
    const full = Math.round(f * width);
    process.stderr.write(
      `\r[${"#".repeat(full)}${"-".repeat(width - full)}] ${(f * 100).toFixed(0).padStart(3)}%  ${
        p.inputs.toLocaleString("en-US")
      } inputs  ${p.outputs.toLocaleString("en-US")} outputs\x1b[K`,
    );
    this.#drawn = true;
  }

  done(): void {
    if (this.#drawn) process.stderr.write("\n");
    this.#drawn = false;
  }
}
