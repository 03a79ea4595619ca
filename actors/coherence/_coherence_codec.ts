/** The coherence kernel's state as bytes: exact save and load (see kernel.ts). */
import { ByteReader, ByteWriter } from "./_bytes.ts";
import { parseCoherenceConfig } from "./config.ts";
import type { CoherencePhase } from "./phase.ts";
import {
  allocate,
  CAP_MIN,
  type CoherenceState,
  COUNTER_NAMES,
  QCAP_MIN,
} from "./_coherence_state.ts";

const MAGIC = 0x54434f48; // "TCOH"
// 2: the phase (the hysteresis the machine held) is in the state.
// 3: the pending phase and its bars (change_for_bars).
// 4: the bars the baseline has been held in the current episode.
// 5: the ratio's predicted sampling variance (the prior of the shift's sd), the episode's mean.
const FORMAT = 5;
const PHASES: readonly CoherencePhase[] = ["normal", "coherent", "fragmented"];

/** Serialises the state exactly (only the `m` channels in use). */
export function saveCoherence(s: CoherenceState): Uint8Array {
  const w = new ByteWriter();
  w.u32(MAGIC);
  w.u32(FORMAT);
  w.json({ config: s.config, group: s.group, names: s.names });
  const m = s.m;
  w.u32(s.entered);
  w.u32(s.kq);
  w.u32(PHASES.indexOf(s.phase));
  w.u32(PHASES.indexOf(s.pendingPhase));
  w.u32(s.pendingBars);
  w.u32(s.heldBars);
  for (
    const x of [
      s.newestBucket,
      s.firstBucket,
      s.closedBucket,
      s.trace,
      s.ratio,
      s.shift,
      s.shortMean,
      s.longMean,
      s.longVar,
      s.priorVar,
      s.preMean,
      s.ratioCount,
      s.lastIterations,
    ]
  ) w.f64(x);
  w.u32(s.counters.length);
  w.f64s(s.counters);
  w.f64s(s.lastPrice, m);
  w.f64s(s.lastBar, m);
  w.f64s(s.lastT, m);
  w.f64s(s.latestBucket, m);
  w.f64s(s.mean, m);
  w.bytes(s.flags.slice(0, m));
  for (let c = 0; c < m; c++) {
    const len = s.qLen[c]!;
    w.u32(len);
    for (let e = 0; e < len; e++) {
      const at = c * s.qcap + (s.qHead[c]! + e) % s.qcap;
      w.f64(s.qBucket[at]!);
      w.f64(s.qPrice[at]!);
    }
  }
  for (let i = 0; i < m; i++) w.f64s(s.cov.subarray(i * s.cap), m);
  for (let j = 0; j < s.kq; j++) w.f64s(s.basis.subarray(j * s.cap), m);
  return w.finish();
}

/** Restores a state saved by `saveCoherence`. */
export function loadCoherence(bytes: Uint8Array): CoherenceState {
  const r = new ByteReader(bytes, "a coherence state");
  if (r.u32() !== MAGIC) throw new RangeError("Cannot load a coherence state: bad magic number");
  const format = r.u32();
  if (format !== FORMAT) {
    throw new RangeError(`Cannot load a coherence state of format ${format}; this reads ${FORMAT}`);
  }
  const head = r.json() as { config: unknown; group: string; names: string[] };
  const config = parseCoherenceConfig(head.config);
  const m = head.names.length;
  let cap = CAP_MIN;
  while (cap < m) cap *= 2;
  const s = allocate(config, head.group, cap, QCAP_MIN);
  s.m = m;
  s.names = head.names.slice();
  head.names.forEach((name, c) => s.slots.set(name, c));
  s.entered = r.u32();
  const kq = r.u32();
  const phase = PHASES[r.u32()];
  if (phase === undefined) throw new RangeError("Cannot load a coherence state: unknown phase");
  s.phase = phase;
  const pending = PHASES[r.u32()];
  if (pending === undefined) {
    throw new RangeError("Cannot load a coherence state: unknown pending phase");
  }
  s.pendingPhase = pending;
  s.pendingBars = r.u32();
  s.heldBars = r.u32();
  s.newestBucket = r.f64();
  s.firstBucket = r.f64();
  s.closedBucket = r.f64();
  s.trace = r.f64();
  s.ratio = r.f64();
  s.shift = r.f64();
  s.shortMean = r.f64();
  s.longMean = r.f64();
  s.longVar = r.f64();
  s.priorVar = r.f64();
  s.preMean = r.f64();
  s.ratioCount = r.f64();
  s.lastIterations = r.f64();
  const nCounters = r.u32();
  const counters = new Float64Array(Math.max(nCounters, COUNTER_NAMES.length));
  r.f64s(counters, nCounters);
  s.counters = counters;
  r.f64s(s.lastPrice, m);
  r.f64s(s.lastBar, m);
  r.f64s(s.lastT, m);
  r.f64s(s.latestBucket, m);
  r.f64s(s.mean, m);
  const flags = r.bytes();
  s.flags.set(flags.subarray(0, m));
  readQueues(r, s);
  readMatrices(r, s, kq);
  r.end();
  return s;
}

/** Each channel's pending bars, into rings as wide as the longest queue needs. */
function readQueues(r: ByteReader, s: CoherenceState): void {
  const queues: { bucket: number; price: number }[][] = [];
  let qcap = s.qcap;
  for (let c = 0; c < s.m; c++) {
    const len = r.u32();
    const q: { bucket: number; price: number }[] = [];
    for (let e = 0; e < len; e++) q.push({ bucket: r.f64(), price: r.f64() });
    queues.push(q);
    while (qcap < len) qcap *= 2;
  }
  if (qcap !== s.qcap) {
    s.qcap = qcap;
    s.qBucket = new Float64Array(s.cap * qcap);
    s.qPrice = new Float64Array(s.cap * qcap);
  }
  queues.forEach((q, c) => {
    q.forEach((e, i) => {
      s.qBucket[c * qcap + i] = e.bucket;
      s.qPrice[c * qcap + i] = e.price;
    });
    s.qLen[c] = q.length;
  });
}

/** The covariance's rows and the `kq` tracked eigenvectors, each `m` values wide. */
function readMatrices(r: ByteReader, s: CoherenceState, kq: number): void {
  const { m, cap } = s;
  const row = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    r.f64s(row, m);
    s.cov.set(row, i * cap);
  }
  s.basisCols = Math.max(kq, 4);
  s.basis = new Float64Array(cap * s.basisCols);
  for (let j = 0; j < kq; j++) {
    r.f64s(row, m);
    s.basis.set(row, j * cap);
  }
  s.kq = kq;
}
