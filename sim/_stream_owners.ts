/**
 * Which host owns each instance stream of a simulated cluster, parsed once per stream, and what the
 * run's end asks of them: which instances are behind the inputs the log holds, and whether the
 * cluster has caught up. The plain and the leased cluster differ only in how a key finds its host.
 */
import { parseStream } from "../actors/runtime/mod.ts";
import type { SimHost } from "./_sim_host.ts";

/** The kind and key of an instance stream, and the host that owns it. */
export interface StreamOwner {
  kind: string;
  key: string;
  owner: SimHost;
}

/** Each instance stream's owner, from `ownerOf` (the host of a key's partition), kept. */
export class StreamOwners {
  readonly #ownerOf: (key: string) => SimHost;
  readonly #streams = new Map<string, StreamOwner>();

  constructor(ownerOf: (key: string) => SimHost) {
    this.#ownerOf = ownerOf;
  }

  /** The kind and key of instance `stream`, and the host that owns it (parsed once). */
  of(stream: string): StreamOwner {
    let at = this.#streams.get(stream);
    if (!at) {
      const { kind, key } = parseStream(stream)!;
      this.#streams.set(stream, at = { kind, key, owner: this.#ownerOf(key) });
    }
    return at;
  }

  /**
   * The instances behind `inputs` (source positions by stream; at most `max`), as
   * `h1 stats/BTC at 5 of 9` (`absent` for one not there).
   */
  behind(inputs: ReadonlyMap<string, readonly number[]>, max = Infinity): string[] {
    const behind: string[] = [];
    for (const [stream, seqs] of inputs) {
      const { kind, key, owner } = this.of(stream);
      const inst = owner.host?.instance(kind, key);
      const last = seqs[seqs.length - 1];
      if (inst?.srcPos !== last) {
        behind.push(`${owner.id} ${stream} at ${inst?.srcPos ?? "absent"} of ${last}`);
        if (behind.length >= max) break;
      }
    }
    return behind;
  }

  /**
   * Whether every input is logged (`logged`), every one of `hosts` ready, and every instance has
   * applied every input `inputs` says the log holds for it.
   */
  caughtUp(
    inputs: ReadonlyMap<string, readonly number[]>,
    { logged, hosts }: { logged: boolean; hosts: readonly SimHost[] },
  ): boolean {
    if (!logged) return false;
    for (const h of hosts) if (!h.host?.ready) return false;
    // Asked after every event of a drain: no report is made, only the answer.
    for (const [stream, seqs] of inputs) {
      const { kind, key, owner } = this.of(stream);
      if (owner.host?.instance(kind, key)?.srcPos !== seqs[seqs.length - 1]) return false;
    }
    return true;
  }
}
