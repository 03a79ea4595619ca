/** The progress bar `troupe sim` draws on stderr over many seeds. */
import process from "node:process";

/** A progress bar on stderr: redrawn in place on a terminal, a line every 5% otherwise. */
export class SimProgress {
  readonly #total: number;
  readonly #tty = process.stderr.isTTY === true;
  readonly #t0 = performance.now();
  #lastStep = -1;

  constructor(total: number) {
    this.#total = total;
  }

  update(done: number, failed: number): void {
    const elapsedS = (performance.now() - this.#t0) / 1000;
    const rate = done / Math.max(elapsedS, 1e-9);
    const eta = (this.#total - done) / Math.max(rate, 1e-9);
    const width = 30;
    const filled = Math.round((done / this.#total) * width);
    const text = `[${"#".repeat(filled)}${
      "-".repeat(width - filled)
    }] ${done}/${this.#total} seeds, ${failed} failed, ${rate.toFixed(1)} seeds/s, ETA ${
      eta.toFixed(0)
    } s`;
    if (this.#tty) {
      process.stderr.write(`\r${text}\x1b[K`);
      return;
    }
    const step = Math.floor((done / this.#total) * 20);
    if (step !== this.#lastStep || done === this.#total) {
      this.#lastStep = step;
      process.stderr.write(`${text}\n`);
    }
  }

  done(): void {
    if (this.#tty) process.stderr.write("\n");
  }
}
