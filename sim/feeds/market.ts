/**
 * A synthetic market: N symbols whose log returns come from a factor model (one market factor, a
 * few sector factors, idiosyncratic noise), with a two-state Markov regime (calm and stressed:
 * stressed raises the factors' variance far more than the idiosyncratic one, so the symbols move
 * together and the absorption ratio rises), single-symbol jumps, market-wide crashes (a labelled
 * change point: every symbol's level drops in proportion to its market beta, and a stressed regime
 * begins), and volumes with bursts.
 *
 * Channels, symbol by symbol (`SYM001`, `SYM002`, ...; zero-padded to at least three digits):
 * - ticks mode: `<SYM>` the price of each tick, and `<SYM>_vol` its traded size (with `volume`);
 * - bars mode: `<SYM>` the close of each OHLCV bar, `<SYM>_open`, `<SYM>_high`, `<SYM>_low`, and
 *   `<SYM>_vol` (with `volume`). A bar aggregates `ticksPerBar` ticks of the same path the ticks
 *   mode emits for the same seed, and is stamped with the time of its first tick.
 * Every channel shares one time grid, `intervalUs` apart. Prices are not rounded to a tick size.
 *
 * Ground truth: the regimes (feed-wide); a `crash` change point (with the planned level change as
 * `magnitude`) and a `crash` anomaly window on every price channel per crash; a `jump` anomaly on a
 * symbol's price channel per jump; a `volume_burst` anomaly on a volume channel per burst (crashes
 * cause bursts on every symbol). Jumps shift the level permanently too, but are labelled only as
 * anomalies: they are one-sample outliers of the returns, not changes of regime.
 */
import {
  ConfigError,
  readBoolean,
  readNumber,
  readString,
  type SampleFrame,
} from "../../protocol/mod.ts";
import { Prng } from "../prng/mod.ts";
import { expFast, logFast } from "../../actors/math/mod.ts";
import type { AnomalyWindow, ChangePoint, Feed, FeedOptions, GroundTruth, Regime } from "./feed.ts";
import {
  optionRecord,
  readCommon,
  readFraction,
  readPositive,
  rejectUnknownOptions,
} from "./_options.ts";

/** Options of the market feed. */
export interface MarketOptions extends FeedOptions {
  /** Number of symbols, 1 to 10000. Default 20. */
  symbols?: number;
  /**
   * Number of sector factors; symbols are dealt to sectors in turn. Default ceil(symbols / 10), at
   * most 11.
   */
  sectors?: number;
  /** `ticks` (a price per sample) or `bars` (OHLCV bars). Default `ticks`. */
  mode?: "ticks" | "bars";
  /** Whether each symbol also has a `<SYM>_vol` channel. Default true. */
  volume?: boolean;
  /** Microseconds between samples (ticks or bars). Default 1 s for ticks, 60 s for bars. */
  intervalUs?: number;
  /** Ticks aggregated into one bar (bars mode). Default 60. */
  ticksPerBar?: number;
  /** Mean length of a calm regime, in ticks. Default 3000. */
  calmMeanTicks?: number;
  /** Mean length of a stressed regime, in ticks. Default 1000. */
  stressedMeanTicks?: number;
  /**
   * Jumps per symbol per tick in the calm regime (three times as many when stressed). Default 1e-4.
   */
  jumpRate?: number;
  /** Crashes per tick in the calm regime (three times as many when stressed). Default 5e-5. */
  crashRate?: number;
  /**
   * Half-life, in ticks, of each price's pull back towards its starting level (a mean reversion
   * of the log price). Crashes only go down; without the pull they ratchet every price towards
   * zero over a long feed. Default 5000.
   */
  reversionTicks?: number;
  /** Volume bursts per symbol per tick. Default 2e-4. */
  burstRate?: number;
  /** Scales every volatility. Default 1. */
  volatility?: number;
  /** Samples of the emitted series added before and after each labelled anomaly. Default 20. */
  windowSamples?: number;
}

const KNOWN = [
  "seed",
  "batch",
  "startUs",
  "symbols",
  "sectors",
  "mode",
  "volume",
  "intervalUs",
  "ticksPerBar",
  "calmMeanTicks",
  "stressedMeanTicks",
  "jumpRate",
  "crashRate",
  "reversionTicks",
  "burstRate",
  "volatility",
  "windowSamples",
] as const;

/** Per-tick volatilities of the calm (index 0) and stressed (index 1) regimes. */
const MARKET_SIGMA = [0.001, 0.0028];
const SECTOR_SIGMA = [0.0008, 0.0013];
const IDIO_SIGMA = [0.0015, 0.0019];
const STRESS_EVENT_FACTOR = 3;
/**
 * A jump's size: JUMP_MIN_SDS of the symbol's own per-tick standard deviation in the stressed
 * regime, plus a half-normal of JUMP_SIGMA. The floor keeps every labelled jump beyond what the
 * symbol's own noise reaches in a long feed (6 sd: about 2e-9 a tick), so a label is a move that
 * can be seen; a plain normal of 0.025 made a third of the jumps smaller than 5 calm-regime sds.
 */
const JUMP_MIN_SDS = 6;
const JUMP_SIGMA = 0.0125;
const CRASH_DROP_MIN = 0.06;
const CRASH_DROP_MAX = 0.18;
const CRASH_TICKS_MAX = 5;
const BURST_MEAN_TICKS = 40;
const CRASH_BURST_TICKS = 60;
const REGIME_NAMES = ["calm", "stressed"] as const;

type Resolved = Required<Omit<MarketOptions, "mode">> & { mode: "ticks" | "bars" };

function resolve(raw: unknown): Resolved {
  const obj = optionRecord(raw);
  rejectUnknownOptions(obj, KNOWN, "market");
  const common = readCommon(obj);
  const symbols = readNumber(obj, "symbols", "", 20, { integer: true, min: 1, max: 10_000 });
  const mode = readString(obj, "mode", "", "ticks", ["ticks", "bars"]) as "ticks" | "bars";
  const sectors = readNumber(obj, "sectors", "", Math.min(11, Math.ceil(symbols / 10)), {
    integer: true,
    min: 1,
  });
  if (sectors > symbols) {
    throw new ConfigError(
      "sectors",
      `Field "sectors" must be <= symbols (${symbols}), got ${sectors}`,
      {
        value: sectors,
      },
    );
  }
  return {
    ...common,
    symbols,
    sectors,
    mode,
    volume: readBoolean(obj, "volume", "", true),
    intervalUs: readPositive(obj, "intervalUs", mode === "ticks" ? 1_000_000 : 60_000_000),
    ticksPerBar: readNumber(obj, "ticksPerBar", "", 60, { integer: true, min: 1, max: 100_000 }),
    calmMeanTicks: readPositive(obj, "calmMeanTicks", 3000),
    stressedMeanTicks: readPositive(obj, "stressedMeanTicks", 1000),
    jumpRate: readFraction(obj, "jumpRate", 1e-4, 1 / STRESS_EVENT_FACTOR),
    crashRate: readFraction(obj, "crashRate", 5e-5, 1 / STRESS_EVENT_FACTOR),
    reversionTicks: readPositive(obj, "reversionTicks", 5_000),
    burstRate: readFraction(obj, "burstRate", 2e-4),
    volatility: readNumber(obj, "volatility", "", 1, { min: 0, max: 100 }),
    windowSamples: readNumber(obj, "windowSamples", "", 20, { integer: true, min: 0 }),
  };
}

/** The symbol names of a market of `n` symbols. */
export function marketSymbols(n: number): string[] {
  const width = Math.max(3, String(n).length);
  return Array.from({ length: n }, (_, i) => `SYM${String(i + 1).padStart(width, "0")}`);
}

/** Creates a market feed. Throws a ConfigError naming a bad option. */
export function createMarketFeed(options: MarketOptions = {}): Feed {
  return new MarketFeed(resolve(options));
}

/** One tick of every symbol, written by the engine into reused arrays. */
interface Tick {
  price: Float64Array;
  volume: Float64Array;
}

/** Where labels go, with times still in ticks; the feed maps them to the emitted series. */
interface LabelSink {
  anomaly(
    symbol: number,
    kind: string,
    onTicks: boolean,
    firstTick: number,
    lastTick: number,
  ): void;
  change(symbol: number, kind: string, tick: number, magnitude: number): void;
  regime(name: string, tick: number): void;
}

/** The price and volume process, one tick at a time. */
class MarketEngine {
  readonly #options: Resolved;
  readonly #rng: Prng;
  readonly #eventRng: Prng;
  readonly #sink: LabelSink;
  readonly #logPrice: Float64Array;
  /** Per symbol: the log of its starting price, which the price is pulled back towards. */
  readonly #anchor: Float64Array;
  /** The fraction of the distance to the anchor a log price moves each tick. */
  readonly #pull: number;
  readonly #betaMarket: Float64Array;
  readonly #betaSector: Float64Array;
  readonly #idio: Float64Array;
  /** Per symbol: the smallest jump, JUMP_MIN_SDS of its stressed-regime per-tick sd. */
  readonly #jumpMin: Float64Array;
  readonly #sector: Int32Array;
  readonly #baseVolume: Float64Array;
  readonly #sectorDraw: Float64Array;
  /** The return generator's normal draws of one tick, in the order they are used. */
  readonly #draws: Float64Array;
  readonly #jumpClock: Float64Array;
  readonly #burstClock: Float64Array;
  readonly #burstLeft: Int32Array;
  readonly #burstMult: Float64Array;
  #regime = 0;
  #regimeLeft: number;
  #crashClock: number;
  #crashLeft = 0;
  #crashStep = 0;
  #tick = 0;

  constructor(o: Resolved, sink: LabelSink) {
    this.#options = o;
    this.#sink = sink;
    const root = new Prng(o.seed);
    const setup = root.fork("market.setup");
    this.#rng = root.fork("market.returns");
    this.#eventRng = root.fork("market.events");
    const n = o.symbols;
    this.#logPrice = new Float64Array(n);
    this.#anchor = new Float64Array(n);
    // Portable exp (not `**`, whose last bits may differ between engines): the same bytes
    // everywhere.
    this.#pull = 1 - expFast(-Math.LN2 / o.reversionTicks);
    this.#betaMarket = new Float64Array(n);
    this.#betaSector = new Float64Array(n);
    this.#idio = new Float64Array(n);
    this.#jumpMin = new Float64Array(n);
    this.#sector = new Int32Array(n);
    this.#baseVolume = new Float64Array(n);
    this.#sectorDraw = new Float64Array(o.sectors);
    // Per tick: the market factor, each sector factor, then per symbol its return and its volume.
    this.#draws = new Float64Array(1 + o.sectors + 2 * n);
    this.#jumpClock = new Float64Array(n);
    this.#burstClock = new Float64Array(n);
    this.#burstLeft = new Int32Array(n);
    this.#burstMult = new Float64Array(n).fill(1);
    for (let i = 0; i < n; i++) {
      this.#anchor[i] = this.#logPrice[i] = logFast(setup.uniform(20, 500));
      this.#betaMarket[i] = setup.uniform(0.7, 1.3);
      this.#betaSector[i] = setup.uniform(0.4, 0.9);
      this.#idio[i] = setup.uniform(0.8, 1.2);
      const m = this.#betaMarket[i]! * MARKET_SIGMA[1]!;
      const sec = this.#betaSector[i]! * SECTOR_SIGMA[1]!, idio = this.#idio[i]! * IDIO_SIGMA[1]!;
      this.#jumpMin[i] = JUMP_MIN_SDS * Math.sqrt(m * m + sec * sec + idio * idio);
      this.#sector[i] = i % o.sectors;
      this.#baseVolume[i] = Math.round(expFast(setup.uniform(logFast(50), logFast(2000))));
      this.#jumpClock[i] = this.#eventRng.exponential();
      this.#burstClock[i] = this.#eventRng.exponential();
    }
    this.#regimeLeft = this.#eventRng.exponential(1 / o.calmMeanTicks);
    this.#crashClock = this.#eventRng.exponential();
    sink.regime(REGIME_NAMES[0], 0);
  }

  /**
   * Runs the regime and crash clocks to tick `k`; returns how much likelier events are now. The
   * clocks run in hazard units: one exponential draw per event, not per tick.
   */
  #advanceClocks(k: number): number {
    if (k > 0 && (this.#regimeLeft -= 1) <= 0) this.#setRegime(1 - this.#regime, k);
    const stress = this.#regime === 1 ? STRESS_EVENT_FACTOR : 1;
    if ((this.#crashClock -= this.#options.crashRate * stress) <= 0) {
      this.#crashClock = this.#eventRng.exponential();
      if (this.#crashLeft === 0) this.#startCrash(k);
    }
    return stress;
  }

  /** Advances one tick, writing every symbol's price and traded size into `out`. */
  step(out: Tick): void {
    const o = this.#options;
    const rng = this.#rng;
    const ev = this.#eventRng;
    const k = this.#tick++;
    const stress = this.#advanceClocks(k);
    const r = this.#regime;
    const vol = o.volatility;
    const draws = this.#draws;
    rng.fillNormals(draws);
    const market = MARKET_SIGMA[r]! * vol * draws[0]!;
    for (let s = 0; s < o.sectors; s++) {
      this.#sectorDraw[s] = SECTOR_SIGMA[r]! * vol * draws[1 + s]!;
    }
    let d = 1 + o.sectors;
    const idioSigma = IDIO_SIGMA[r]! * vol;
    const crashing = this.#crashLeft > 0;
    const crashStep = this.#crashStep;
    if (crashing) this.#crashLeft--;
    const jumpRate = o.jumpRate * stress;
    const volumeRegime = r === 1 ? 1.6 : 1;
    for (let i = 0; i < o.symbols; i++) {
      const bm = this.#betaMarket[i]!;
      let ret = bm * market + this.#betaSector[i]! * this.#sectorDraw[this.#sector[i]!]! +
        idioSigma * this.#idio[i]! * draws[d++]!;
      if (crashing) ret -= bm * crashStep;
      if ((this.#jumpClock[i]! -= jumpRate) <= 0) {
        this.#jumpClock[i] = ev.exponential();
        const z = ev.normal();
        const size = vol * (this.#jumpMin[i]! + JUMP_SIGMA * Math.abs(z));
        ret += z < 0 ? -size : size;
        this.#sink.anomaly(i, "jump", true, k, k);
      }
      const lp0 = this.#logPrice[i]!;
      const lp = (this.#logPrice[i] = lp0 + ret + this.#pull * (this.#anchor[i]! - lp0));
      out.price[i] = expFast(lp);
      // Volume: lognormal noise, more when the price moves, bursts, more when stressed.
      if (this.#burstLeft[i]! > 0) {
        this.#burstLeft[i] = this.#burstLeft[i]! - 1;
        if (this.#burstLeft[i] === 0) this.#burstMult[i] = 1;
      } else if ((this.#burstClock[i]! -= o.burstRate) <= 0) {
        this.#burstClock[i] = ev.exponential();
        this.#startBurst(i, k, Math.max(2, Math.round(ev.exponential(1 / BURST_MEAN_TICKS))), 0);
      }
      // The draw is made without volume channels too, so that prices do not depend on them.
      const z = draws[d++]!;
      if (!o.volume) continue;
      const move = Math.abs(ret) / (MARKET_SIGMA[0]! * (vol || 1));
      out.volume[i] = Math.max(
        1,
        Math.round(
          this.#baseVolume[i]! * expFast(0.35 * z) * (1 + 0.25 * move) *
            this.#burstMult[i]! * volumeRegime,
        ),
      );
    }
  }

  #setRegime(regime: number, k: number): void {
    this.#regime = regime;
    const mean = regime === 1 ? this.#options.stressedMeanTicks : this.#options.calmMeanTicks;
    this.#regimeLeft = Math.max(1, this.#eventRng.exponential(1 / mean));
    this.#sink.regime(REGIME_NAMES[regime]!, k);
  }

  #startCrash(k: number): void {
    const ev = this.#eventRng;
    const drop = ev.uniform(CRASH_DROP_MIN, CRASH_DROP_MAX);
    const ticks = 1 + ev.int(CRASH_TICKS_MAX);
    this.#crashLeft = ticks;
    this.#crashStep = drop / ticks;
    for (let i = 0; i < this.#options.symbols; i++) {
      const price = expFast(this.#logPrice[i]!);
      const magnitude = price * (expFast(-this.#betaMarket[i]! * drop) - 1);
      this.#sink.change(i, "crash", k, magnitude);
      this.#sink.anomaly(i, "crash", true, k, k + ticks - 1);
      if (this.#burstLeft[i]! === 0) this.#startBurst(i, k, CRASH_BURST_TICKS, 8);
    }
    // A crash starts (or prolongs) a stressed regime.
    if (this.#regime === 1) {
      this.#regimeLeft = Math.max(
        this.#regimeLeft,
        ev.exponential(1 / this.#options.stressedMeanTicks),
      );
    } else this.#setRegime(1, k);
  }

  #startBurst(i: number, k: number, ticks: number, mult: number): void {
    this.#burstLeft[i] = ticks;
    this.#burstMult[i] = mult || this.#eventRng.uniform(4, 8);
    this.#sink.anomaly(i, "volume_burst", false, k, k + ticks - 1);
  }
}

class MarketFeed implements Feed {
  readonly name = "market";
  readonly channels: readonly string[];
  readonly batch: number;
  readonly #options: Resolved;
  readonly #engine: MarketEngine;
  readonly #tick: Tick;
  readonly #symbols: string[];
  /** Channel indices of each symbol's fields; -1 when absent. */
  readonly #priceCh: Int32Array;
  readonly #volumeCh: Int32Array;
  readonly #barCh: Int32Array; // open, high, low per symbol
  readonly #ticksPerSample: number;
  readonly #tickUs: number;
  #samples = 0;
  readonly #anomalies: AnomalyWindow[] = [];
  readonly #changes: ChangePoint[] = [];
  readonly #regimes: Array<{ name: string; tick: number }> = [];

  constructor(o: Resolved) {
    this.#options = o;
    this.batch = o.batch;
    this.#symbols = marketSymbols(o.symbols);
    const channels: string[] = [];
    const n = o.symbols;
    this.#priceCh = new Int32Array(n);
    this.#volumeCh = new Int32Array(n).fill(-1);
    this.#barCh = new Int32Array(3 * n).fill(-1);
    for (let i = 0; i < n; i++) {
      const sym = this.#symbols[i]!;
      this.#priceCh[i] = channels.push(sym) - 1;
      if (o.mode === "bars") {
        for (const [f, field] of ["open", "high", "low"].entries()) {
          this.#barCh[3 * i + f] = channels.push(`${sym}_${field}`) - 1;
        }
      }
      if (o.volume) this.#volumeCh[i] = channels.push(`${sym}_vol`) - 1;
    }
    this.channels = channels;
    this.#ticksPerSample = o.mode === "bars" ? o.ticksPerBar : 1;
    this.#tickUs = o.intervalUs / this.#ticksPerSample;
    this.#tick = { price: new Float64Array(n), volume: new Float64Array(n) };
    this.#engine = new MarketEngine(o, this.#sink());
  }

  #sampleTime(index: number): number {
    return this.#options.startUs + Math.max(0, index) * this.#options.intervalUs;
  }

  #sink(): LabelSink {
    const per = this.#ticksPerSample;
    const pad = this.#options.windowSamples;
    return {
      anomaly: (symbol, kind, onPrice, firstTick, lastTick) => {
        const channelIndex = onPrice ? this.#priceCh[symbol]! : this.#volumeCh[symbol]!;
        if (channelIndex < 0) return;
        const first = Math.floor(firstTick / per);
        const last = Math.floor(lastTick / per);
        this.#anomalies.push({
          channel: this.channels[channelIndex]!,
          kind,
          start: this.#sampleTime(first - pad),
          end: this.#sampleTime(last + pad),
          onset: this.#sampleTime(first),
          index: first,
        });
      },
      change: (symbol, kind, tick, magnitude) => {
        const index = Math.floor(tick / per);
        this.#changes.push({
          channel: this.channels[this.#priceCh[symbol]!]!,
          kind,
          index,
          time: this.#sampleTime(index),
          magnitude,
        });
      },
      regime: (name, tick) => {
        this.#regimes.push({ name, tick });
      },
    };
  }

  next(): SampleFrame[] {
    const o = this.#options;
    const batch = o.batch;
    const n = o.symbols;
    // Every column and every channel's copy of the times in one fresh buffer (one allocation,
    // not two per channel); the frames hold disjoint views of it.
    const nc = this.channels.length;
    const all = new Float64Array(2 * nc * batch);
    const cols = this.channels.map((_, c) => all.subarray(c * batch, (c + 1) * batch));
    const t = all.subarray(nc * batch, (nc + 1) * batch);
    const tick = this.#tick;
    const per = this.#ticksPerSample;
    for (let b = 0; b < batch; b++) {
      t[b] = this.#sampleTime(this.#samples + b);
      if (per === 1) {
        this.#engine.step(tick);
        for (let i = 0; i < n; i++) {
          cols[this.#priceCh[i]!]![b] = tick.price[i]!;
          const vc = this.#volumeCh[i]!;
          if (vc >= 0) cols[vc]![b] = tick.volume[i]!;
        }
        continue;
      }
      for (let j = 0; j < per; j++) {
        this.#engine.step(tick);
        for (let i = 0; i < n; i++) {
          const p = tick.price[i]!;
          const open = cols[this.#barCh[3 * i]!]!;
          const high = cols[this.#barCh[3 * i + 1]!]!;
          const low = cols[this.#barCh[3 * i + 2]!]!;
          if (j === 0) {
            open[b] = p;
            high[b] = p;
            low[b] = p;
          } else {
            if (p > high[b]!) high[b] = p;
            if (p < low[b]!) low[b] = p;
          }
          const vc = this.#volumeCh[i]!;
          if (vc >= 0) cols[vc]![b] = (j === 0 ? 0 : cols[vc]![b]!) + tick.volume[i]!;
        }
      }
      for (let i = 0; i < n; i++) cols[this.#priceCh[i]!]![b] = tick.price[i]!;
    }
    const seq0 = this.#samples;
    this.#samples += batch;
    return this.channels.map((channel, c) => {
      let tc = t;
      if (c > 0) (tc = all.subarray((nc + c) * batch, (nc + c + 1) * batch)).set(t);
      return { channel, seq0, t: tc, v: cols[c]! };
    });
  }

  truth(): GroundTruth {
    const ticks = this.#samples * this.#ticksPerSample;
    const tickTime = (k: number) => Math.round(this.#options.startUs + k * this.#tickUs);
    const regimes: Regime[] = [];
    if (ticks > 0) {
      for (let r = 0; r < this.#regimes.length; r++) {
        const { name, tick } = this.#regimes[r]!;
        const next = this.#regimes[r + 1];
        regimes.push({ name, start: tickTime(tick), end: tickTime(next ? next.tick : ticks - 1) });
      }
    }
    // The engine only runs as far as the emitted samples, so every label is for generated data.
    return {
      feed: this.name,
      options: { ...this.#options },
      channels: [...this.channels],
      samples: this.#samples,
      startUs: this.#samples > 0 ? this.#options.startUs : null,
      endUs: this.#samples > 0 ? this.#sampleTime(this.#samples - 1) : null,
      anomalies: this.#anomalies.map((a) => ({ ...a })),
      changePoints: this.#changes.map((c) => ({ ...c })),
      regimes,
    };
  }
}
