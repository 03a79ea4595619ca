/**
 * The anomaly kernel's outputs with the view that raised each score, recorded beside a feed's
 * anomaly actors for `troupe bench detect --explain`: a kernel of the actor's configuration steps
 * the same frames with a views column (`stepAnomaly`'s, actors/anomaly/_views.ts), and its scores
 * are checked bit for bit against those the actor publishes, so what is laid to a view is what the
 * bench counted.
 */
import {
  type AnomalyConfig,
  anomalyKernel,
  type AnomalyState,
  stepAnomaly,
} from "../actors/anomaly/mod.ts";
import type { ColumnsFrame, SampleFrame } from "../protocol/mod.ts";

/** One channel's kernel outputs, per sample, with the view that raised each score. */
export interface ChannelViews {
  t: Float64Array;
  value: Float64Array;
  score: Float64Array;
  expected: Float64Array;
  spread: Float64Array;
  /** The code of the view that raised the score (VIEW), 0 where the score is 0. */
  view: Uint8Array;
}

const COLUMNS = ["t", "value", "score", "expected", "spread", "view"] as const;

/** Steps a kernel per channel with the views column, beside the actors; checks its scores. */
export class ViewRecorder {
  #channels = new Map<string, { state: AnomalyState; frames: ChannelViews[] }>();
  #config: AnomalyConfig | undefined;

  /** The anomaly configuration the channels run (the first frame's), once a frame is stepped. */
  get config(): AnomalyConfig | undefined {
    return this.#config;
  }

  /** Steps channel `key`'s kernel (made from `config` at its first frame) over `frame`. */
  step(key: string, frame: SampleFrame, config: AnomalyConfig): void {
    this.#config ??= config;
    let c = this.#channels.get(key);
    if (!c) {
      c = { state: anomalyKernel.init(config, key), frames: [] };
      this.#channels.set(key, c);
    }
    const view = new Uint8Array(frame.v.length);
    const { score, expected, spread } = stepAnomaly(c.state, frame, undefined, view);
    c.frames.push({ t: frame.t.slice(), value: frame.v.slice(), score, expected, spread, view });
  }

  /**
   * Checks a columns frame the actor of `key` published against the last frame stepped here: the
   * views explain the actor's own scores, or the bench stops.
   */
  check(key: string, columns: ColumnsFrame): void {
    const last = this.#channels.get(key)?.frames.at(-1);
    const score = columns.columns.score;
    const same = last !== undefined && score !== undefined &&
      score.length === last.score.length && score.every((s, i) => Object.is(s, last.score[i]));
    if (!same) {
      throw new Error(
        `Cannot explain channel "${key}": the kernel's scores of the frame at seq ` +
          `${columns.seq0} differ from those its actor published`,
      );
    }
  }

  /** Each channel's outputs as one series. */
  series(): Map<string, ChannelViews> {
    const out = new Map<string, ChannelViews>();
    for (const [key, { frames }] of this.#channels) {
      const n = frames.reduce((a, f) => a + f.t.length, 0);
      const s: ChannelViews = {
        t: new Float64Array(n),
        value: new Float64Array(n),
        score: new Float64Array(n),
        expected: new Float64Array(n),
        spread: new Float64Array(n),
        view: new Uint8Array(n),
      };
      let at = 0;
      for (const f of frames) {
        for (const k of COLUMNS) s[k].set(f[k], at);
        at += f.t.length;
      }
      out.set(key, s);
    }
    return out;
  }
}
