/**
 * The answers to one control message, read into one account. A kind-wide change is applied and
 * answered by every host running the kind and by each thread of a threaded host, each for the
 * instances it owns (gathered with `requestAll`): what they applied together is their instances
 * summed, and a refusal is told with the hosts that gave it. A host the message is not for (it
 * runs no actor of the kind, or does not own the key's partition) may answer with a pass
 * (`askControl` asks it to): passes are kept apart, neither accepted nor refused, so that when they
 * are all there is the account says which kinds and partitions the answering hosts have.
 * `troupe ctl` prints this account and the collab bridge writes it into the session's threshold
 * entry, so both say the same.
 */
import {
  type BusMessage,
  controlAnswerOf,
  type ControlApplied,
  type ControlPass,
  decodeEnvelope,
  ProtocolError,
} from "../../../protocol/mod.ts";

/** What the answers to one control message say, together. */
export interface ControlAnswers {
  /** The hosts that accepted, in the order they answered. */
  accepted: string[];
  /** What the accepting hosts applied, together (null when none said: older hosts, or none). */
  applied: ControlApplied | null;
  /** Each reason a host refused with, and the hosts that gave it, sorted. */
  refused: Array<{ reason: string; hosts: string[] }>;
  /** Why each answer that cannot be read cannot be. */
  unreadable: string[];
  /** The hosts the message was not for, each with why, in the order they answered. */
  passed: Array<{ host: string; pass: ControlPass }>;
}

/**
 * Reads every answer: the accepting hosts and their instances summed, the refusals grouped by
 * reason, and those that cannot be read (a ProtocolError's message; other errors are thrown).
 */
export function readControlAnswers(replies: readonly BusMessage[]): ControlAnswers {
  const out: ControlAnswers = {
    accepted: [],
    applied: null,
    refused: [],
    unreadable: [],
    passed: [],
  };
  const applied: ControlApplied[] = [];
  const refusals = new Map<string, string[]>();
  for (const reply of replies) {
    let src: string;
    let answer;
    try {
      const env = decodeEnvelope(reply.data);
      src = env.src;
      answer = controlAnswerOf(env);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      out.unreadable.push(err.message);
      continue;
    }
    if (!answer.ok && answer.pass) {
      out.passed.push({ host: src, pass: answer.pass });
    } else if (answer.ok) {
      out.accepted.push(src);
      if (answer.applied) applied.push(answer.applied);
    } else {
      refusals.set(answer.error, [...(refusals.get(answer.error) ?? []), src]);
    }
  }
  out.applied = sumControlApplied(applied);
  for (const [reason, hosts] of refusals) out.refused.push({ reason, hosts: hosts.sort() });
  return out;
}

/** What several hosts applied, together: their instances summed (null for none). */
export function sumControlApplied(applied: readonly ControlApplied[]): ControlApplied | null {
  const first = applied[0];
  if (first === undefined) return null;
  if (applied.length === 1) return first;
  return {
    ...first,
    instances: applied.reduce((n, a) => n + a.instances, 0),
    kind_config: applied.some((a) => a.kind_config),
    via: applied.some((a) => a.via === "stream") ? "stream" : "now",
  };
}

/** "3 hosts (h1-t0, h1-t1, h1-t2)": the hosts counted and named, sorted. */
export function describeHosts(hosts: readonly string[]): string {
  const n = hosts.length;
  return `${n} host${n === 1 ? "" : "s"} (${[...hosts].sort().join(", ")})`;
}

/** Whether any answer came from a host the message was for (accepted, refused or unreadable). */
export function answeredByAddressee(read: ControlAnswers): boolean {
  return read.accepted.length + read.refused.length + read.unreadable.length > 0;
}

/**
 * Why no host took a message when only passes answered: "no host runs collapse (h1 runs anomaly,
 * stats)", or "no host that answered owns partition 3 of collapse (h1 and h2 do not own it)".
 * Hosts that pass for the same reason are named together, sorted.
 */
export function describePasses(kind: string, passed: ControlAnswers["passed"]): string {
  const byWhy = new Map<string, string[]>();
  let partition: number | undefined;
  for (const { host, pass } of passed) {
    if (pass.partition !== null) partition = pass.partition;
    const why = pass.partition !== null ? "own it" : `run ${pass.runs.join(", ") || "no actors"}`;
    byWhy.set(why, [...(byWhy.get(why) ?? []), host]);
  }
  const head = partition === undefined
    ? `no host runs ${kind}`
    : `no host that answered owns partition ${partition} of ${kind}`;
  const parts = [...byWhy].map(([why, hosts]) => {
    const sorted = hosts.sort();
    const who = sorted.length < 3
      ? sorted.join(" and ")
      : `${sorted.slice(0, -1).join(", ")} and ${sorted.at(-1)}`;
    if (why === "own it") return `${who} ${hosts.length === 1 ? "does" : "do"} not own it`;
    return `${who} ${hosts.length === 1 ? why.replace(/^run/, "runs") : why}`;
  });
  return `${head} (${parts.join("; ")})`;
}
