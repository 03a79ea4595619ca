/**
 * What `troupe bench fleet` counts of the hosts' answers: every channel's anomaly output for each
 * sample sent (by the sample's time, the output envelope's `ts`), whichever host published it, so
 * that an arm can say how many of its channels' samples were answered and how long each took
 * from its request's first send.
 */
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { decodeEnvelope, outPattern, outPrefix } from "../protocol/mod.ts";

/** Answers to the samples of the requests sent, by channel and sample time. */
export class FleetAnswers {
  readonly #sub: Subscription;
  /** When each sample time's request was first sent (performance.now()), and in which round. */
  readonly #sent = new Map<number, { round: number; at: number }>();
  /** Channel and sample time of each answer counted, so that a repeat counts once. */
  readonly #answered = new Set<string>();
  /** Answers per round. */
  readonly #perRound = new Map<number, number>();
  /** Lags (ms) of the answers of rounds from `measuredFrom` on. */
  readonly lags: number[] = [];
  measuredFrom = Infinity;

  constructor(nc: NatsConnection) {
    const prefix = outPrefix("anomaly");
    this.#sub = nc.subscribe(outPattern("anomaly"), {
      callback: (_err, m) => {
        const ts = readTs(m.data);
        if (ts === undefined) return;
        const tMs = Math.round(ts / 1000);
        const sent = this.#sent.get(tMs);
        if (sent === undefined) return;
        const key = `${m.subject.slice(prefix.length)}@${tMs}`;
        if (this.#answered.has(key)) return;
        this.#answered.add(key);
        this.#perRound.set(sent.round, (this.#perRound.get(sent.round) ?? 0) + 1);
        if (sent.round >= this.measuredFrom) this.lags.push(performance.now() - sent.at);
      },
    });
  }

  /** Notes that the request of samples at `tMs` of `round` was first sent now. */
  sent(tMs: number, round: number): void {
    this.#sent.set(tMs, { round, at: performance.now() });
  }

  /** The samples of `round` answered so far. */
  answered(round: number): number {
    return this.#perRound.get(round) ?? 0;
  }

  close(): void {
    this.#sub.unsubscribe();
  }
}

/** The envelope's `ts` (µs: the frame's last sample's time) of an output message. */
function readTs(data: Uint8Array): number | undefined {
  try {
    return decodeEnvelope(data).ts;
  } catch {
    return undefined;
  }
}
