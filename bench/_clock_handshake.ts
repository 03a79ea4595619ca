/**
 * How the latency injector's two threads relate their clocks: its sender thread stamps each frame
 * on its own `performance.now()`, its receiving thread times the answers on its own, and the two
 * have different origins on Deno (Node shares one clock between threads; this works for both). A
 * spin handshake over shared memory, done once when the sender starts, gives the difference.
 */

/** A thread's monotonic clock in milliseconds (each thread has its own origin). */
export function monoMs(): number {
  return performance.now();
}

/** Rounds of the clock handshake; the tightest counts. */
const SYNC_ROUNDS = 16;

/** The shared memory of one handshake, made by the receiver and handed to the sender. */
export function handshakeBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(8 + SYNC_ROUNDS * 8);
}

/**
 * The sender's half of the clock handshake: for each round it says it is ready, spins until the
 * receiver answers, and reads its clock at once.
 */
export function clockHandshakeSender(sync: SharedArrayBuffer): void {
  const flags = new Int32Array(sync, 0, 2);
  const times = new Float64Array(sync, 8, SYNC_ROUNDS);
  for (let k = 1; k <= SYNC_ROUNDS; k++) {
    Atomics.store(flags, 1, k);
    Atomics.notify(flags, 1);
    while (Atomics.load(flags, 0) !== k) { /* spin: the answer must be seen at once */ }
    times[k - 1] = monoMs();
  }
  Atomics.store(flags, 1, SYNC_ROUNDS + 1);
  Atomics.notify(flags, 1);
}

/**
 * The receiver's half: reads its clock and answers the spinning sender, which reads its own
 * within a microsecond or so. The smallest difference over the rounds is the sender's clock minus
 * this thread's, so a sender time `t` is `t - offset` here. Blocks this thread until the sender
 * has done its half (up to 60 s).
 */
export function clockOffset(sync: SharedArrayBuffer): number {
  const flags = new Int32Array(sync, 0, 2);
  const times = new Float64Array(sync, 8, SYNC_ROUNDS);
  const mine = new Float64Array(SYNC_ROUNDS);
  const deadline = monoMs() + 60_000;
  for (let k = 1; k <= SYNC_ROUNDS + 1; k++) {
    while (Atomics.load(flags, 1) < k) {
      if (monoMs() > deadline) throw new Error("the sender thread did not start within 60 s");
      Atomics.wait(flags, 1, k - 1, 100);
    }
    if (k > SYNC_ROUNDS) break;
    mine[k - 1] = monoMs();
    Atomics.store(flags, 0, k);
  }
  let offset = Infinity;
  for (let k = 0; k < SYNC_ROUNDS; k++) offset = Math.min(offset, times[k]! - mine[k]!);
  return offset;
}
