/** The progress bar `troupe inject` draws on stderr while it sends. */
import process from "node:process";

/**
 * A one-line progress bar on stderr, redrawn in place on a terminal; elsewhere (a pipe, a log
 * file) a plain line every 5 seconds, so logs stay readable.
 */
export class ProgressBar {
  readonly #total: number | undefined;
  readonly #tty = process.stderr.isTTY === true;
  #lastLineS = 0;
  #drawn = false;

  constructor(total: number | undefined) {
    this.#total = total;
  }

  update(sent: number, elapsedS: number): void {
    const rate = elapsedS > 0 ? sent / elapsedS : 0;
    const counts = `${sent.toLocaleString("en-US")} samples  ${
      Math.round(rate).toLocaleString("en-US")
    }/s  ${elapsedS.toFixed(1)} s`;
    if (!this.#tty) {
      if (elapsedS - this.#lastLineS >= 5) {
        this.#lastLineS = elapsedS;
        process.stderr.write(`troupe inject: ${counts}\n`);
      }
      return;
    }
    let line = counts;
    if (this.#total !== undefined && this.#total > 0) {
      const width = 30;
      const f = Math.min(1, sent / this.#total);
      const full = Math.round(f * width);
      line = `[${"#".repeat(full)}${"-".repeat(width - full)}] ${
        (f * 100).toFixed(0).padStart(3)
      }%  ${counts}`;
    }
    process.stderr.write(`\r${line}\x1b[K`);
    this.#drawn = true;
  }

  done(): void {
    if (this.#drawn) process.stderr.write("\n");
    this.#drawn = false;
  }
}
