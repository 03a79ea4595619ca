/**
 * How the simulator's checks say where two values differ: the first differing byte, JSON with
 * sorted keys (so that equal values print equal), and a message-sized clip.
 */

/** The index of the first differing byte, or undefined when equal. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number | undefined {
  const n = Math.min(a.byteLength, b.byteLength);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.byteLength === b.byteLength ? undefined : n;
}

/** JSON with object keys sorted, so that equal values print equal. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v) && !(v instanceof Uint8Array)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v as Record<string, unknown>).sort()) {
        sorted[k] = (v as Record<string, unknown>)[k];
      }
      return sorted;
    }
    return v;
  });
}

/** `s`, cut to 200 characters for a message. */
export function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
