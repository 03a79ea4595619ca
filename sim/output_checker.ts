/**
 * `outputs_equal_fault_free`: every output a host publishes has an id the fault-free reference
 * produced, with the same bytes, and every reference output is published (duplicates aside).
 */
import { bytesEqual } from "../protocol/mod.ts";
import { AGAIN } from "./fault_free_reference.ts";
import type { Reference } from "./invariants.ts";
import { firstDifference } from "./_value_diff.ts";

/** Checks published outputs against the reference as they are published. */
export class OutputChecker {
  readonly #ref: Pick<Reference, "outputs">;
  readonly #seen = new Set<string>();
  /** Outputs published, duplicates included. */
  published = 0;

  constructor(reference: Pick<Reference, "outputs">) {
    this.#ref = reference;
  }

  /** Checks one published output; returns what is wrong with it, if anything. */
  observe(id: string | undefined, data: Uint8Array): string | undefined {
    this.published++;
    if (id === undefined) {
      return `an output without a Nats-Msg-Id header (${data.byteLength} bytes)`;
    }
    const expected = this.#ref.outputs.get(id);
    if (expected === undefined) return `output "${id}" is not one a fault-free run publishes`;
    this.#seen.add(id);
    if (bytesEqual(data, expected)) return undefined;
    const second = this.#ref.outputs.get(id + AGAIN);
    if (second !== undefined && bytesEqual(data, second)) return undefined;
    const at = firstDifference(data, expected);
    if (at !== undefined) {
      return `output "${id}" differs from the fault-free run's at byte ${at} ` +
        `(${data.byteLength} vs ${expected.byteLength} bytes)`;
    }
    return undefined;
  }

  /** Reference outputs never published, in reference order. */
  missing(): string[] {
    const out: string[] = [];
    for (const id of this.#ref.outputs.keys()) {
      if (!this.#seen.has(id) && !id.endsWith(AGAIN)) out.push(id);
    }
    return out;
  }
}
