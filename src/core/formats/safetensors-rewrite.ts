/**
 * A safetensors file rewritten while its bytes arrive, in order, never held whole: with `toFp16`,
 * float32 tensors are rounded to fp16 (round to nearest even, as torch's `.half()`) and the rest
 * copied, so only the output (half the size) is held; with `shardBytes`, the tensors are split
 * into files of at most that many data bytes (each a safetensors file of its own), so a file past
 * what one ArrayBuffer holds (~2 GiB in Chrome; SDXL's fp16 UNet is 5.1 GB) still loads. The
 * published SHA-256 of the input is computed on the way, so the download is still verified.
 */
import { ModelError } from '../errors';
import { toHalf } from '../math/float16';
import { MAX_HEADER_BYTES, parseSafetensors, safetensorsPrefix, type SafetensorsEntry } from './safetensors';
import { Sha256 } from './sha256';

interface Slot {
  entry: SafetensorsEntry;
  /** Which output file, and where its bytes go there. */
  file: number;
  at: number;
  halve: boolean;
}

export interface RewriteOptions {
  /** Round float32 tensors to fp16. */
  toFp16: boolean;
  /** Split into files of at most this many data bytes (one file when absent). */
  shardBytes?: number;
}

export class SafetensorsRewriter {
  private head: Uint8Array = new Uint8Array(8);
  private headFilled = 0;
  private dataStart = 0;
  private outs: Uint8Array[] | null = null;
  private slots: Slot[] = [];
  private slot = 0;
  /** Bytes of the input consumed so far. */
  private position = 0;
  /** The part of a float32 value split across two chunks. */
  private readonly carry = new Uint8Array(4);
  private carried = 0;
  private readonly hash = new Sha256();

  constructor(
    private readonly file: string,
    /** The input's total size (from the listing or Content-Length): its header is checked against it. */
    private readonly inputSize: number,
    private readonly options: RewriteOptions,
  ) {}

  write(chunk: Uint8Array): void {
    this.hash.update(chunk);
    let i = 0;
    while (i < chunk.length) {
      if (!this.outs) i += this.readHeader(chunk.subarray(i));
      else i += this.readData(chunk.subarray(i));
    }
  }

  /** The output files, in tensor order, and the input's SHA-256, once every input byte has been written. */
  finish(): { files: Uint8Array[]; sha256: string } {
    if (!this.outs || this.position !== this.inputSize) {
      throw new ModelError(`${this.file} ended after ${this.position} of ${this.inputSize} bytes.`);
    }
    return { files: this.outs, sha256: this.hash.hex() };
  }

  private readHeader(bytes: Uint8Array): number {
    const need = this.dataStart === 0 ? 8 : this.dataStart;
    const take = Math.min(need - this.headFilled, bytes.length);
    this.head.set(bytes.subarray(0, take), this.headFilled);
    this.headFilled += take;
    this.position += take;
    if (this.headFilled < need) return take;
    if (this.dataStart === 0) {
      const length = Number(new DataView(this.head.buffer).getBigUint64(0, true));
      if (length > MAX_HEADER_BYTES || 8 + length > this.inputSize) {
        throw new ModelError(`${this.file} is not a usable safetensors file: its header claims ${length} bytes.`);
      }
      this.dataStart = 8 + length;
      const grown = new Uint8Array(this.dataStart);
      grown.set(this.head.subarray(0, 8));
      this.head = grown;
      return take;
    }
    this.plan();
    return take;
  }

  /** The outputs' headers and where each tensor goes, once the input's header is in. */
  private plan(): void {
    const header = parseSafetensors(this.file, this.head, this.inputSize);
    const entries = [...header.tensors.values()].sort((a, b) => a.begin - b.begin);
    const halve = (e: SafetensorsEntry) => this.options.toFp16 && e.dtype === 'F32';
    const size = (e: SafetensorsEntry) => (halve(e) ? (e.end - e.begin) / 2 : e.end - e.begin);
    // Consecutive tensors per file, a new file when the next would pass shardBytes.
    const limit = this.options.shardBytes ?? Infinity;
    const groups: SafetensorsEntry[][] = [[]];
    let filled = 0;
    for (const e of entries) {
      if (filled + size(e) > limit && groups[groups.length - 1]!.length > 0) {
        groups.push([]);
        filled = 0;
      }
      groups[groups.length - 1]!.push(e);
      filled += size(e);
    }
    const metadata = Object.keys(header.metadata).length ? header.metadata : undefined;
    this.outs = [];
    this.slots = [];
    for (const [file, group] of groups.entries()) {
      const { prefix, offsets, dataBytes } = safetensorsPrefix(
        group.map((e) => ({ name: e.name, dtype: halve(e) ? 'F16' : e.dtype, shape: e.shape, bytes: size(e) })),
        metadata,
      );
      const out = new Uint8Array(prefix.length + dataBytes);
      out.set(prefix);
      this.outs.push(out);
      group.forEach((entry, i) =>
        this.slots.push({ entry, file, at: prefix.length + offsets[i]!, halve: halve(entry) }),
      );
    }
    this.head = new Uint8Array(0);
  }

  private readData(bytes: Uint8Array): number {
    // Bytes between tensors (none in files safetensors writes) and after the last are skipped.
    const slot = this.slots[this.slot];
    if (!slot || this.position < slot.entry.begin) {
      const until = slot ? slot.entry.begin : this.inputSize;
      const skip = Math.min(until - this.position, bytes.length);
      if (skip <= 0) throw new ModelError(`${this.file} has more bytes than its header describes.`);
      this.position += skip;
      return skip;
    }
    const { entry, file, at, halve } = slot;
    const take = Math.min(entry.end - this.position, bytes.length);
    const offset = this.position - entry.begin;
    const out = this.outs![file]!;
    if (!halve) {
      out.set(bytes.subarray(0, take), at + offset);
    } else {
      this.halve(out, bytes.subarray(0, take), at + (offset - this.carried) / 2);
    }
    this.position += take;
    if (this.position === entry.end) this.slot++;
    return take;
  }

  /** float32 bytes (maybe starting with a carried partial value) → fp16 bits at `to` in `out`. */
  private halve(out: Uint8Array, bytes: Uint8Array, to: number): void {
    let i = 0;
    let at = to;
    const put = (b0: number, b1: number, b2: number, b3: number) => {
      const bits = toHalf(new Float32Array(new Uint8Array([b0, b1, b2, b3]).buffer)[0]!);
      out[at] = bits & 0xff;
      out[at + 1] = bits >>> 8;
      at += 2;
    };
    while (this.carried > 0 && i < bytes.length) {
      this.carry[this.carried++] = bytes[i++]!;
      if (this.carried === 4) {
        put(this.carry[0]!, this.carry[1]!, this.carry[2]!, this.carry[3]!);
        this.carried = 0;
      }
    }
    const whole = Math.floor((bytes.length - i) / 4);
    if (whole > 0) {
      // Aligned float32 view of this stretch (a copy when the chunk's offset is not a multiple of 4).
      const start = bytes.byteOffset + i;
      const values =
        start % 4 === 0
          ? new Float32Array(bytes.buffer, start, whole)
          : new Float32Array(bytes.slice(i, i + whole * 4).buffer);
      for (let k = 0; k < whole; k++) {
        const bits = toHalf(values[k]!);
        out[at] = bits & 0xff;
        out[at + 1] = bits >>> 8;
        at += 2;
      }
      i += whole * 4;
    }
    while (i < bytes.length) this.carry[this.carried++] = bytes[i++]!;
  }
}
