/**
 * The checks a simulation makes of its cluster (the invariants, see invariants.ts): every frame
 * journaled is the stream's next input in the log (as it is journaled), every output published
 * equals the fault-free reference's (checked once the reference is there: outputs published
 * before are checked then, and reported where they were published), every recovery leaves each
 * instance equal to a replay of its journal (the replays run on the feed source's worker while
 * the run goes on, their verdicts reported where each check was made), and at the end, each
 * instance's inputs and state against the reference.
 */
import { createHash } from "node:crypto";
import { type AnyActorDefinition, type JournalRecord, parseStream } from "../actors/runtime/mod.ts";
import { checkFraming } from "./framing_check.ts";
import { areaPrefix, decodeEnvelope, findingOutputSubject, sysSubject } from "../protocol/mod.ts";
import type { SimCluster } from "./_sim_cluster.ts";
import type { SimHost } from "./_sim_host.ts";
import type { SimFeedLog } from "./_sim_feed_log.ts";
import type { CheckOp, FeedSource, ReferenceOutcome } from "./_sim_feed_source.ts";
import type { SimTrace, TraceMark } from "./_sim_trace.ts";
import { checkJournalInputs } from "./check_journal_inputs.ts";
import { diffSnapshots, type RecoveryInstance } from "./recovery_checker.ts";
import { type InputIndex } from "./fault_free_reference.ts";
import { OutputChecker } from "./output_checker.ts";

const OUT_PREFIX = areaPrefix("out");
const FINDING_PREFIX = areaPrefix("finding");

/** Whether `subject` is a finding's (an actor's output, published there alone). */
function isFindingOutput(subject: string): boolean {
  return subject.startsWith(FINDING_PREFIX) && findingOutputSubject(subject) !== undefined;
}
const DLQ_PREFIX = areaPrefix("dlq");
const ACTOR_SYS_PREFIX = `${sysSubject("actor")}.`;
const ACTOR_RESTARTED = sysSubject("actor", "restarted");

/** An output published before the reference was known, to check once it is. */
interface PendingOutput {
  from: string;
  id: string | undefined;
  data: Uint8Array;
  /** Virtual µs since the start. */
  atUs: number;
  /** Where in the trace its violation, if any, goes. */
  line: TraceMark;
}

/** Options of SimChecks. */
export interface SimChecksOptions {
  trace: SimTrace;
  /** The hosts (a leased cluster's partition hosts) and who owns each stream. */
  cluster: Pick<SimCluster, "hosts" | "streamOwner">;
  feed: FeedSource;
  log: SimFeedLog;
  /** Which instances each logged frame goes to. */
  index: InputIndex;
  /** Where in the trace the reference's own conflicts are reported. */
  setupLines: TraceMark;
  /** What the checker sees of every fourth output of h1 has its last byte flipped (a sabotage). */
  corruptOutput: boolean;
  /** The kinds the run routes to (the framing check folds their journals again). */
  actors: readonly AnyActorDefinition[];
}

/** Streams per kind whose journals the framing check folds again at the end (bounds its cost). */
const FRAMING_STREAMS_MAX = 2;

/**
 * Recovery checks handed to the feed source together, at most: each handing is a message to the
 * worker (a copy of the checks' snapshots and a wake-up of its thread), which on a loaded machine
 * costs the run more than the copy; the rest wait for the verdicts (`recoveryVerdicts`).
 */
const CHECKS_PER_HANDOFF = 32;

/** The checks of one run. */
export class SimChecks {
  readonly #options: SimChecksOptions;
  /** The reference, once the feed source has it. */
  #reference: ReferenceOutcome | undefined;
  #outputs: OutputChecker | undefined;
  /** Published outputs waiting for the reference, with the trace line they are checked at. */
  #pendingOutputs: PendingOutput[] = [];
  /**
   * The recovery checks' work not yet handed to the feed source (which runs it, or has its worker
   * run it), and per host and stream, how many records of the disk's view it was given.
   */
  #checkOps: CheckOp[] = [];
  readonly #checkSent = new Map<string, Map<string, number>>();
  /** Per recovery check handed over (by id), the trace line and time its violations belong at. */
  readonly #checkAt: { line: TraceMark; atUs: number }[] = [];
  /** Outputs h1 published (the corrupt_output sabotage corrupts some). */
  #h1Outputs = 0;
  /** Recovery checks among #checkOps. */
  #checksWaiting = 0;

  constructor(options: SimChecksOptions) {
    this.#options = options;
  }

  /** The reference, once known. */
  get reference(): ReferenceOutcome | undefined {
    return this.#reference;
  }

  /** Outputs checked against the reference. */
  get outputsPublished(): number {
    return this.#outputs?.published ?? 0;
  }

  /** Checks what waited for the reference, if it is there (with `wait`, once it is). */
  useReference(wait: boolean): ReferenceOutcome | undefined {
    if (this.#reference) return this.#reference;
    const ref = this.#options.feed.reference(wait);
    if (!ref) return undefined;
    this.#reference = ref;
    const trace = this.#options.trace;
    for (const id of ref.conflicts) {
      trace.violateLate(
        this.#options.setupLines,
        0,
        "outputs_equal_fault_free",
        `the fault-free run produces output id "${id}" twice with different bytes`,
      );
    }
    const outputs = this.#outputs = new OutputChecker(ref);
    for (const p of this.#pendingOutputs) {
      const problem = outputs.observe(p.id, p.data);
      if (problem) {
        trace.violateLate(p.line, p.atUs, "outputs_equal_fault_free", `${p.from}: ${problem}`);
      }
    }
    this.#pendingOutputs = [];
    return ref;
  }

  /** Every message published on the bus: outputs are checked, dead letters are violations. */
  onPublish(
    from: string,
    subject: string,
    data: Uint8Array,
    headers: Record<string, string> | undefined,
  ): void {
    const trace = this.#options.trace;
    if (subject.startsWith(OUT_PREFIX) || isFindingOutput(subject)) {
      const id = headers?.["Nats-Msg-Id"];
      trace.line(`${from} out ${id}`);
      // h1, or in a leased cluster partition 0's host (`part-0@<machine>`).
      if (
        this.#options.corruptOutput && (from === "h1" || from.startsWith("part-0@")) &&
        ++this.#h1Outputs % 4 === 3
      ) {
        data = data.slice();
        data[data.byteLength - 1]! ^= 0x01;
      }
      const outputs = this.#outputs ?? (this.useReference(false) && this.#outputs);
      if (outputs) {
        const problem = outputs.observe(id, data);
        if (problem) trace.violate("outputs_equal_fault_free", `${from}: ${problem}`);
      } else {
        // Checked once the reference is known, and reported here.
        this.#pendingOutputs.push({
          from,
          id,
          data: data.slice(),
          atUs: trace.nowUs,
          line: trace.mark(),
        });
      }
    } else if (
      subject.startsWith(DLQ_PREFIX) ||
      // A restart is supervision doing its job (the host announces it); a stop is not.
      (subject.startsWith(ACTOR_SYS_PREFIX) && subject !== ACTOR_RESTARTED)
    ) {
      let detail = "";
      try {
        detail = JSON.stringify(decodeEnvelope(data).body).slice(0, 300);
      } catch {
        detail = `${data.byteLength} undecodable bytes`;
      }
      trace.violate("no_dead_letters", `${from} published on "${subject}": ${detail}`);
    }
  }

  /**
   * A frame journaled (so about to be applied) by `host` for `stream`, after `last`: it must be
   * the next input of the stream in the log. An earlier one is applied twice; a later one means the
   * inputs between are lost (the host never goes back: it ignores positions it has passed).
   */
  journaled(host: string, stream: string, srcPos: number, last: number): void {
    const trace = this.#options.trace;
    const expected = this.#options.index.inputs.get(stream);
    if (srcPos <= 0) {
      trace.violate(
        "no_input_applied_twice",
        `${host} ${stream}: a frame journaled without a source position cannot be deduplicated`,
      );
    } else if (srcPos <= last) {
      trace.violate(
        "no_input_applied_twice",
        `${host} ${stream}: input at source position ${srcPos} journaled (applied) again after ` +
          `position ${last}`,
      );
    } else if (!expected) {
      trace.violate(
        "no_input_lost",
        `${host} journaled ${stream}, which no logged input routes to`,
      );
    } else {
      const next = expected[upperBound(expected, last)];
      if (next !== srcPos) {
        trace.violate(
          "no_input_lost",
          next !== undefined && next < srcPos
            ? `${host} ${stream}: journaled source position ${srcPos} after ${last}, skipping ` +
              `logged input ${next}, which it will now ignore`
            : `${host} ${stream}: journaled source position ${srcPos}, which the log does not ` +
              `route to it`,
        );
      }
    }
  }

  /**
   * Every instance of `h` equals a fresh instance fed its whole journal (see RecoveryChecker):
   * what the comparison needs is taken now, in one instant (the live instances' snapshots and the
   * journals' new records), and handed to the feed source, which replays and compares while the
   * run goes on (on its worker, or here). Its violations are reported, at the end, at the trace
   * line where they would have been. A `full` check reads the journal itself, asynchronously,
   * before that instant (or takes the journals `read` at the same instant by the final checks).
   */
  async recovery(
    h: SimHost,
    incarnation: number,
    when: string,
    full = false,
    read?: ReadonlyMap<string, JournalRecord[]>,
  ): Promise<void> {
    const host = h.host;
    if (!host || h.incarnation !== incarnation) return; // crashed meanwhile
    const list = host.instances();
    let journals: Map<string, JournalRecord[]> | undefined;
    if (full) {
      journals = new Map();
      for (const { stream } of list) {
        journals.set(stream, read?.get(`${h.id} ${stream}`) ?? await h.disk.records(stream));
      }
      if (h.host !== host) return;
    }
    const trace = this.#options.trace;
    trace.line(
      `${h.id} ${when} #${incarnation} instances=${list.length} ${
        list.map((i) => `${i.stream}@${i.pos}`).join(" ")
      }`,
    );
    const instances = this.#instancesOf(h);
    const id = this.#checkAt.length;
    this.#checkAt.push({ line: trace.mark(), atUs: trace.nowUs });
    const check = {
      host: h.id,
      when,
      head: this.#options.log.head,
      instances,
      ...(journals ? { journals } : {}),
    };
    this.#checkOps.push({ op: "check", id, check });
    if (++this.#checksWaiting >= CHECKS_PER_HANDOFF) this.#flush();
  }

  /** `h`'s instances as a recovery check takes them, and the records of theirs not handed over. */
  #instancesOf(h: SimHost): RecoveryInstance[] {
    const host = h.host!;
    let sent = this.#checkSent.get(h.id);
    if (!sent) this.#checkSent.set(h.id, sent = new Map());
    const instances: RecoveryInstance[] = [];
    for (const { stream, status } of host.instances()) {
      const parsed = parseStream(stream)!;
      const inst = host.instance(parsed.kind, parsed.key);
      instances.push({
        stream,
        status,
        live: inst && status === "running" ? inst.snapshot() : undefined,
      });
      // The records of the disk's view the checker has not been given yet.
      const base = sent.get(stream) ?? 0;
      const data = h.disk.watched(stream, base).map((r) => r.data);
      sent.set(stream, base + data.length);
      if (data.length || base === 0) {
        this.#checkOps.push({ op: "records", host: h.id, stream, base, data });
      }
    }
    return instances;
  }

  /** A crash lost the unsynced tails of `h`'s journals: the checker's views are cut back too. */
  lostTails(h: SimHost): void {
    const sent = this.#checkSent.get(h.id);
    if (!sent) return;
    const lengths = new Map<string, number>();
    for (const [stream, n] of sent) {
      const last = h.disk.journal.lastPosition(stream);
      lengths.set(stream, last);
      if (n > last) sent.set(stream, last);
    }
    this.#checkOps.push({ op: "cut", host: h.id, lengths });
  }

  /** A record the checker was given changed on `host`'s disk: it is given the new bytes. */
  patched(host: string, stream: string, pos: number, data: Uint8Array): void {
    this.#checkOps.push({ op: "patch", host, stream, pos, data });
  }

  /**
   * Hands the recovery-check work over. What it holds is safe to hand later: snapshots are
   * copies, and records are the journal's own bytes, which never change (see CheckOp).
   */
  #flush(): void {
    if (this.#checkOps.length) this.#options.feed.check(this.#checkOps);
    this.#checkOps = [];
    this.#checksWaiting = 0;
  }

  /** The recovery checks' violations, reported where each check would have reported them. */
  recoveryVerdicts(): void {
    this.#flush();
    if (this.#checkAt.length === 0) return;
    const verdicts = this.#options.feed.checked();
    const trace = this.#options.trace;
    for (let id = 0; id < this.#checkAt.length; id++) {
      const { line, atUs } = this.#checkAt[id]!;
      const found = verdicts.get(id);
      if (!found) {
        trace.violateLate(line, atUs, "no_exception", `recovery check ${id} was never answered`);
        continue;
      }
      for (const v of found) trace.violateLate(line, atUs, v.invariant, v.message);
    }
  }

  /** The end-of-run checks: inputs exactly once, state equal to replay and to the reference. */
  async final(when: string, full: boolean): Promise<void> {
    const reference = this.useReference(true)!;
    const { trace, cluster } = this.#options;
    // The journals as read here, by host and stream: nothing runs until the recovery checks
    // below, so a full one takes them as they are instead of reading them again.
    const read = new Map<string, JournalRecord[]>();
    for (const [stream, seqs] of this.#options.index.inputs) {
      const { kind, key, owner } = cluster.streamOwner(stream);
      const records = await owner.disk.records(stream);
      read.set(`${owner.id} ${stream}`, records);
      const bad = checkJournalInputs(stream, records, seqs);
      if (bad) trace.violate(bad.invariant, `${owner.id} after ${when}: ${bad.message}`);
      const inst = owner.host?.instance(kind, key);
      const expected = reference.finals.get(stream)!;
      if (!inst) {
        trace.violate("no_input_lost", `${owner.id} has no instance ${stream} after ${when}`);
        continue;
      }
      const diff = diffSnapshots(inst.snapshot(), expected, { positions: false });
      if (diff) {
        trace.violate(
          "outputs_equal_fault_free",
          `${owner.id} ${stream} after ${when}: state differs from the fault-free run: ${diff}`,
        );
      }
    }
    if (full) this.#framing(read, when);
    for (const h of cluster.hosts) await this.recovery(h, h.incarnation, when, full, read);
    const missing = full ? this.#outputs!.missing() : []; // once, after the drain
    if (missing.length) {
      trace.violate(
        "outputs_equal_fault_free",
        `${missing.length} of ${reference.outputs.size} outputs of the fault-free run never ` +
          `published, first "${missing[0]}"`,
      );
    }
    trace.line(`state ${when} ${this.#stateHash(reference)}`);
  }

  /**
   * The framing invariant on the first few streams of each kind (by name): their journals folded as
   * journaled and re-framed give the same outputs (framing_check.ts).
   */
  #framing(read: ReadonlyMap<string, JournalRecord[]>, when: string): void {
    const byKind = new Map<string, [string, JournalRecord[]][]>();
    for (const [at, records] of read) {
      const stream = at.slice(at.indexOf(" ") + 1);
      const kind = parseStream(stream)!.kind;
      let list = byKind.get(kind);
      if (!list) byKind.set(kind, list = []);
      list.push([stream, records]);
    }
    for (const def of this.#options.actors) {
      const streams = (byKind.get(def.kind) ?? []).sort((a, b) => (a[0] < b[0] ? -1 : 1));
      for (const [stream, records] of streams.slice(0, FRAMING_STREAMS_MAX)) {
        const diff = checkFraming(def, parseStream(stream)!.key, records);
        if (diff) {
          this.#options.trace.violate("framing_independent", `${stream} after ${when}: ${diff}`);
        }
      }
    }
  }

  /** A hash of every instance's final state, in stream order. */
  #stateHash(reference: ReferenceOutcome): string {
    const hash = createHash("sha256");
    for (const stream of [...reference.finals.keys()].sort()) {
      const { kind, key, owner } = this.#options.cluster.streamOwner(stream);
      const inst = owner.host?.instance(kind, key);
      if (inst) hash.update(stream).update(inst.snapshot().kernel);
    }
    return hash.digest("hex").slice(0, 16);
  }
}

/** The index of the first element of ascending `xs` greater than `x`. */
function upperBound(xs: readonly number[], x: number): number {
  let lo = 0, hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
