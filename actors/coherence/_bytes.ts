/**
 * A minimal binary writer and reader for the coherence kernel's snapshots: little-endian integers
 * and float64s, typed arrays copied byte for byte (so every value, NaN included, comes back with
 * the same bits), and UTF-8 JSON for the few strings. Each `write*` has its `read*`.
 */

const LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;

/** Appends values to a growing buffer. */
export class ByteWriter {
  #buf = new Uint8Array(1024);
  #view = new DataView(this.#buf.buffer);
  #pos = 0;

  #reserve(n: number): void {
    if (this.#pos + n <= this.#buf.byteLength) return;
    let size = this.#buf.byteLength * 2;
    while (size < this.#pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  u32(x: number): void {
    this.#reserve(4);
    this.#view.setUint32(this.#pos, x, true);
    this.#pos += 4;
  }

  f64(x: number): void {
    this.#reserve(8);
    this.#view.setFloat64(this.#pos, x, true);
    this.#pos += 8;
  }

  /** Writes the first `n` values of `a`, bit for bit. */
  f64s(a: Float64Array, n = a.length): void {
    this.#reserve(n * 8);
    if (LITTLE_ENDIAN) {
      this.#buf.set(new Uint8Array(a.buffer, a.byteOffset, n * 8), this.#pos);
    } else {
      for (let i = 0; i < n; i++) this.#view.setFloat64(this.#pos + i * 8, a[i]!, true);
    }
    this.#pos += n * 8;
  }

  bytes(a: Uint8Array): void {
    this.u32(a.byteLength);
    this.#reserve(a.byteLength);
    this.#buf.set(a, this.#pos);
    this.#pos += a.byteLength;
  }

  json(value: unknown): void {
    this.bytes(new TextEncoder().encode(JSON.stringify(value)));
  }

  finish(): Uint8Array {
    return this.#buf.slice(0, this.#pos);
  }
}

/** Reads what a ByteWriter wrote, in the same order; throws on truncation. */
export class ByteReader {
  #bytes: Uint8Array;
  #view: DataView;
  #pos = 0;
  #what: string;

  constructor(bytes: Uint8Array, what: string) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#what = what;
  }

  #need(n: number): void {
    if (this.#pos + n > this.#bytes.byteLength) {
      throw new RangeError(
        `Cannot load ${this.#what}: needs ${n} bytes at offset ${this.#pos}, ` +
          `but it has ${this.#bytes.byteLength} bytes`,
      );
    }
  }

  u32(): number {
    this.#need(4);
    const x = this.#view.getUint32(this.#pos, true);
    this.#pos += 4;
    return x;
  }

  f64(): number {
    this.#need(8);
    const x = this.#view.getFloat64(this.#pos, true);
    this.#pos += 8;
    return x;
  }

  /** Reads `n` float64 values into `out` (from index 0). */
  f64s(out: Float64Array, n: number): void {
    this.#need(n * 8);
    if (LITTLE_ENDIAN) {
      new Uint8Array(out.buffer, out.byteOffset, n * 8).set(
        this.#bytes.subarray(this.#pos, this.#pos + n * 8),
      );
    } else {
      for (let i = 0; i < n; i++) out[i] = this.#view.getFloat64(this.#pos + i * 8, true);
    }
    this.#pos += n * 8;
  }

  bytes(): Uint8Array {
    const n = this.u32();
    this.#need(n);
    const out = this.#bytes.slice(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  json(): unknown {
    return JSON.parse(new TextDecoder().decode(this.bytes()));
  }

  /** Throws unless every byte was read. */
  end(): void {
    if (this.#pos !== this.#bytes.byteLength) {
      throw new RangeError(
        `Cannot load ${this.#what}: ${this.#bytes.byteLength - this.#pos} bytes left over`,
      );
    }
  }
}
