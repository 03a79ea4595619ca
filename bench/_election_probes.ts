/**
 * What waits for a NATS cluster's meta election besides the partitions' outputs, probed from the
 * bench process on a connection made as a host makes its own (the same servers, NatsBus): the
 * findings stream's consumer (what feeds a leased cluster's incident stage) and a key-value watch
 * (the channel labels book the alert sender reads). A writer on a node that is not killed
 * publishes a finding and puts a channel's labels every PROBE_EVERY_MS. A probe's stall at a write
 * is the time until that write, or a later one, is delivered (by the end of the window if none is:
 * a reader that never came back); its row is the longest over the writes of the window. A write
 * never delivered while a later one was is counted as lost, not as a stall.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { type ChannelLabelsBook, openChannelLabels } from "../actors/ingest/mod.ts";
import { AcknowledgedPublishes, NatsBus, openFindingsStream } from "../actors/runtime/mod.ts";
import { findingSubject } from "../protocol/mod.ts";

/** How often each probe writes, ms. */
const PROBE_EVERY_MS = 100;
/** How often the labels reader is looked at, ms. */
const LOOK_EVERY_MS = 10;
/** Writes kept at most per probe (a bound far past a bench's window). */
const WRITES_MAX = 100_000;

/** One probe's writes: when each was made and when it was delivered. */
class Writes {
  readonly sent: number[] = [];
  readonly seen: Array<number | undefined> = [];

  add(at: number): number | undefined {
    if (this.sent.length >= WRITES_MAX) return undefined;
    this.seen.push(undefined);
    return this.sent.push(at) - 1;
  }

  saw(n: number, at: number): void {
    if (n >= 0 && n < this.seen.length && this.seen[n] === undefined) this.seen[n] = at;
  }

  /** The longest stall of the writes made in [from, to], and how many were lost. */
  stall(from: number, to: number): { ms: number; lost: number } {
    let ms = 0, lost = 0, next: number | undefined;
    // From the last write back: `next` is the first delivery of this write or any later one.
    for (let i = this.sent.length - 1; i >= 0; i--) {
      const s = this.sent[i]!, d = this.seen[i];
      if (d === undefined && next !== undefined && s >= from && s <= to) lost++;
      if (d !== undefined && (next === undefined || d < next)) next = d;
      if (s < from || s > to) continue;
      ms = Math.max(ms, Math.min(next ?? to, to) - s);
    }
    return { ms, lost };
  }
}

/** The findings and labels probes, running until stopped. */
export class ElectionProbes {
  readonly findings = new Writes();
  readonly labels = new Writes();
  readonly #stops: Array<() => Promise<void> | void> = [];
  /** The server the readers' connection was on when the probes started. */
  readerServer = "";

  /** Starts both probes: readers on `readerUrls` (as a host connects), writers on `writer`. */
  static async start(
    readerUrls: string,
    writer: NatsConnection,
    replicas: number,
  ): Promise<ElectionProbes> {
    const p = new ElectionProbes();
    const reader = await NatsBus.connect(readerUrls, { name: "troupe-bench-probe" });
    p.#stops.push(() => reader.close());
    p.readerServer = reader.nc.getServer();
    try {
      await p.#findings(reader.nc, writer, replicas);
      await p.#labels(reader, NatsBus.wrap(writer), replicas);
    } catch (err) {
      await p.stop();
      throw err;
    }
    return p;
  }

  async stop(): Promise<void> {
    for (const s of this.#stops.splice(0).reverse()) await s();
  }

  async #findings(reader: NatsConnection, writer: NatsConnection, replicas: number) {
    const source = await openFindingsStream(reader, { replicas });
    const consumer = await source.consume(await source.lastSeq(), (data, _seq, subject) => {
      if (!subject.endsWith(".election-probe")) return;
      this.findings.saw(Number(new TextDecoder().decode(data)), Date.now());
    });
    this.#stops.push(() => consumer.stop());
    const subject = findingSubject("probe", "election-probe");
    // As a leased host publishes its findings (NatsBus.acknowledge): each under its id, sent
    // again until the stream acknowledges it.
    const acked = new AcknowledgedPublishes(writer, { log: () => {} });
    const timer = setInterval(() => {
      const n = this.findings.add(Date.now());
      if (n !== undefined) {
        acked.add(subject, new TextEncoder().encode(String(n)), `election-probe-${n}`);
      }
    }, PROBE_EVERY_MS);
    this.#stops.push(async () => {
      clearInterval(timer);
      await acked.close(1000);
    });
  }

  async #labels(reader: NatsBus, writer: NatsBus, replicas: number) {
    const book: ChannelLabelsBook = await openChannelLabels(reader, { read: true, replicas });
    this.#stops.push(() => book.close());
    const put = await openChannelLabels(writer, { read: false, replicas });
    let looked = 0;
    const timer = setInterval(() => {
      const n = this.labels.add(Date.now());
      if (n !== undefined) {
        put.put(`election-probe-${n}`, [{ name: "n", value: String(n) }]).catch(() => {});
      }
    }, PROBE_EVERY_MS);
    const look = setInterval(() => {
      const now = Date.now();
      while (looked < this.labels.sent.length && book.get(`election-probe-${looked}`)) {
        this.labels.saw(looked++, now);
      }
      // A later key seen first: the earlier ones are looked at again each time.
      for (let i = looked; i < this.labels.sent.length; i++) {
        if (this.labels.seen[i] === undefined && book.get(`election-probe-${i}`)) {
          this.labels.saw(i, now);
        }
      }
    }, LOOK_EVERY_MS);
    this.#stops.push(() => {
      clearInterval(timer);
      clearInterval(look);
    });
  }
}
