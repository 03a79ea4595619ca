/**
 * The dashboard bench's figures: a page's times per round (RoundTimes, from the page's own lists),
 * and per page, each round's percentiles and its log line (Figures), which the rows take the
 * median of.
 */
import { percentile } from "./_bench.ts";
import type { OnScreen } from "./_dashboard_on_screen.ts";

/** One page's figures per round: the whole, the main thread's and the worker's part, the script
 *  part of the whole, and the frames per round on each thread. */
export interface RoundTimes {
  times: number[];
  /** The message handling alone (and, with the worker, the page's posts to it). */
  messages: number[];
  main: number[];
  worker: number[];
  scripts: number[];
  frames: number[];
  workerFrames: number[];
  /** The live views' paints in the run, summed over the charts: strips and whole repaints. */
  paints: { strip: number; full: number };
  /** The live views on screen (intersecting the window) when the updates began, of all. */
  onScreen: OnScreen;
}

/** One page's percentiles per bench round, and their log lines. */
export class Figures {
  readonly p50: number[] = [];
  readonly p99: number[] = [];
  readonly mainP99: number[] = [];
  readonly workerP99: number[] = [];
  readonly n: number[] = [];

  /** Takes one run's rounds; returns its log line. */
  add(r: RoundTimes, charts: number): string {
    const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
    const times = sorted(r.times), scripts = sorted(r.scripts);
    const main = sorted(r.main), worker = sorted(r.worker), messages = sorted(r.messages);
    const p = (xs: number[], q: number) => percentile(xs, q).toFixed(2);
    const mean = (xs: number[]) => (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(2);
    this.p50.push(percentile(times, 50));
    this.p99.push(percentile(times, 99));
    this.mainP99.push(percentile(main, 99));
    this.workerP99.push(percentile(worker, 99));
    this.n.push(times.length);
    return `${times.length} updates of ${charts} charts, p50 ${p(times, 50)} ms, p99 ${
      p(times, 99)
    } ms, worst ${times.slice(-3).map((x) => x.toFixed(1)).join(", ")} ms; main thread p50 ${
      p(main, 50)
    }, p99 ${p(main, 99)} ms; worker p50 ${p(worker, 50)}, p99 ${p(worker, 99)} ms; ` +
      `script alone p50 ${p(scripts, 50)}, p99 ${p(scripts, 99)} ms (messages p50 ${
        p(messages, 50)
      }, p99 ${p(messages, 99)}); frames per update ${mean(r.frames)} (worker ${
        mean(r.workerFrames)
      }); live views painted ${r.paints.strip} strips and ${r.paints.full} whole; ` +
      `${r.onScreen.shown} of ${r.onScreen.all} on screen`;
  }

  summary(rounds: number): string {
    const range = (xs: number[]) => `${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}`;
    return `p50 ${range(this.p50)} ms, p99 ${range(this.p99)} ms (main thread p99 ${
      range(this.mainP99)
    }, worker p99 ${range(this.workerP99)}) over ${rounds} rounds (updates measured per round: ${
      this.n.join(", ")
    })`;
  }
}
