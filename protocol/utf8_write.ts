/**
 * A string's UTF-8 bytes written into a byte array at an offset, and their count, the runtime's
 * fastest way. On Node that is its Buffer's own calls (`utf8Write`, which takes any byte array,
 * and `Buffer.byteLength`): `TextEncoder.encodeInto` there makes a result object and needs a view
 * of the destination for each string, and at fleet size a host writes several long strings into
 * each output and journal index row (`troupe bench codec`, its output figure). Deno's
 * `encodeInto` is its own fast path, and its Buffer is written over it. An unpaired surrogate is
 * U+FFFD's three bytes either way, as `TextEncoder` writes it.
 */
const utf8 = new TextEncoder();

type Utf8Write = (this: Uint8Array, s: string, offset: number, length: number) => number;
interface NodeBuffer {
  prototype: { utf8Write?: Utf8Write };
  byteLength(s: string, encoding: "utf8"): number;
}
/**
 * Node's Buffer, where this runtime is Node: taken from the global object, not imported, as this
 * file is also bundled for browsers (the dashboard), which have none and write with `TextEncoder`.
 */
const NODE_BUFFER: NodeBuffer | undefined = "Deno" in globalThis
  ? undefined
  : (globalThis as { Buffer?: NodeBuffer }).Buffer;
/** Node's `utf8Write`, where this runtime is Node. */
const NODE_WRITE: Utf8Write | undefined = NODE_BUFFER?.prototype.utf8Write;

/**
 * Writes `s`'s UTF-8 bytes at `at` of `out`, where at least `3 * s.length` bytes (or its UTF-8
 * length) are free; returns how many it wrote.
 */
export function writeUtf8(s: string, out: Uint8Array, at: number): number {
  if (NODE_WRITE !== undefined) return NODE_WRITE.call(out, s, at, out.length - at);
  return utf8.encodeInto(s, out.subarray(at)).written;
}

/** The number of UTF-8 bytes of `s`, where the runtime counts them without writing them. */
export function nativeUtf8Length(s: string): number | undefined {
  return NODE_WRITE !== undefined ? NODE_BUFFER!.byteLength(s, "utf8") : undefined;
}
