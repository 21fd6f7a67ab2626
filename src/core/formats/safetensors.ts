/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header naming each tensor's
 * dtype, shape and byte range (relative to the end of the header), then the raw bytes. Only the
 * header is parsed here; tensor bytes stay where they are (the graphs point into them as ONNX
 * external data), so a file too big to hold can be described from its first bytes and its size.
 */
import { isRecord } from '../json';
import { float16ToFloat32 } from '../math/float16';
import { ModelError } from '../errors';

/** A header bigger than this is refused: real checkpoints have headers of a few hundred KB. */
export const MAX_HEADER_BYTES = 100_000_000;

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const DTYPE_BYTES: Record<SafetensorsDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Absolute byte range in the file (header included), [begin, end). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** The file's name, for messages. */
  file: string;
  /** Bytes before the first tensor: 8 + the JSON header's length. */
  dataStart: number;
  /** The file's total size. */
  size: number;
  tensors: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
}

/** A file that is not a well-formed safetensors file, with the file and the reason. */
export class SafetensorsError extends ModelError {
  override name = 'SafetensorsError';
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file} is not a usable safetensors file: ${reason}`);
  }
}

/** How many bytes the header needs (8 + its JSON), from the file's first 8 bytes. */
export function safetensorsHeaderLength(file: string, first: Uint8Array, size: number): number {
  if (first.length < 8 || size < 8) {
    throw new SafetensorsError(
      file,
      `it has ${Math.min(first.length, size)} bytes, fewer than the 8 of the header length.`,
    );
  }
  const view = new DataView(first.buffer, first.byteOffset, 8);
  const length = view.getBigUint64(0, true);
  if (length > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(
      file,
      `its header claims ${length} bytes, over the ${MAX_HEADER_BYTES / 1e6} MB limit (it is probably not a safetensors file).`,
    );
  }
  const total = 8 + Number(length);
  if (total > size) {
    throw new SafetensorsError(file, `its header claims ${length} bytes but the file has only ${size} (truncated?).`);
  }
  return total;
}

/**
 * Parses the header from the file's first bytes (at least `safetensorsHeaderLength` of them) and
 * checks every entry against the file's size: known dtype, whole-number shape, a byte range that
 * matches the shape, lies inside the file and overlaps no other.
 */
export function parseSafetensors(file: string, head: Uint8Array, size: number = head.length): SafetensorsHeader {
  const dataStart = safetensorsHeaderLength(file, head, size);
  if (head.length < dataStart) {
    throw new SafetensorsError(file, `only ${head.length} bytes were given, the header needs ${dataStart}.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(head.subarray(8, dataStart)));
  } catch {
    throw new SafetensorsError(file, 'its header is not valid JSON.');
  }
  if (!isRecord(json)) throw new SafetensorsError(file, 'its header is not a JSON object.');
  const tensors = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (!isRecord(value) || !Object.values(value).every((v) => typeof v === 'string')) {
        throw new SafetensorsError(file, '__metadata__ must map names to strings.');
      }
      metadata = value as Record<string, string>;
      continue;
    }
    tensors.set(name, parseEntry(file, name, value, dataStart, size));
  }
  const sorted = [...tensors.values()].sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (cur.begin < prev.end) {
      throw new SafetensorsError(file, `tensors "${prev.name}" and "${cur.name}" overlap.`);
    }
  }
  return { file, dataStart, size, tensors, metadata };
}

function parseEntry(file: string, name: string, value: unknown, dataStart: number, size: number): SafetensorsEntry {
  const bad = (why: string) => new SafetensorsError(file, `tensor "${name}" ${why}`);
  if (!isRecord(value)) throw bad('is not described by an object.');
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) throw bad(`has an unknown dtype ${JSON.stringify(dtype)}.`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw bad('has a shape that is not a list of whole numbers.');
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)
  ) {
    throw bad('has data_offsets that are not two whole numbers.');
  }
  const [from, to] = offsets as [number, number];
  const dims = shape as number[];
  const bytes = dims.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype as SafetensorsDtype];
  if (to < from || to - from !== bytes) {
    throw bad(`has ${to - from} bytes in data_offsets but its shape [${dims.join(', ')}] and ${dtype} need ${bytes}.`);
  }
  if (dataStart + to > size) {
    throw bad(`ends at byte ${dataStart + to}, past the end of the file (${size} bytes: truncated?).`);
  }
  return { name, dtype: dtype as SafetensorsDtype, shape: dims, begin: dataStart + from, end: dataStart + to };
}

/** bfloat16 bits → float32: the top half of a float32. */
export function bfloat16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = bits[i]! << 16;
  return new Float32Array(out.buffer);
}

/** A tensor's values as float32 (a copy), from the whole file's bytes. For small tensors and tests. */
export function readFloat32(header: SafetensorsHeader, bytes: Uint8Array, name: string): Float32Array {
  const entry = header.tensors.get(name);
  if (!entry) throw new SafetensorsError(header.file, `it has no tensor "${name}".`);
  // A copy at offset 0 (aligned for any typed array); Node's Buffer.slice would be a view.
  const raw = new Uint8Array(entry.end - entry.begin);
  raw.set(bytes.subarray(entry.begin, entry.end));
  switch (entry.dtype) {
    case 'F32':
      return new Float32Array(raw.buffer);
    case 'F16':
      return float16ToFloat32(new Uint16Array(raw.buffer));
    case 'BF16':
      return bfloat16ToFloat32(new Uint16Array(raw.buffer));
    case 'F64':
      return Float32Array.from(new Float64Array(raw.buffer));
    case 'I64':
      return Float32Array.from(new BigInt64Array(raw.buffer), (v) => Number(v));
    case 'I32':
      return Float32Array.from(new Int32Array(raw.buffer));
    case 'U8':
    case 'BOOL':
      return Float32Array.from(raw);
    default:
      throw new SafetensorsError(
        header.file,
        `tensor "${name}" has dtype ${entry.dtype}, which is not read as numbers here.`,
      );
  }
}

/** Bytes per element of a dtype. */
export function dtypeBytes(dtype: SafetensorsDtype): number {
  return DTYPE_BYTES[dtype];
}

export interface SafetensorsInput {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  data: Uint8Array;
}

/**
 * A safetensors file's header for tensors of these sizes in this order: the bytes before the data
 * (length, JSON, padding) and where each tensor's data starts after them.
 */
export function safetensorsPrefix(
  tensors: { name: string; dtype: SafetensorsDtype; shape: number[]; bytes: number }[],
  metadata?: Record<string, string>,
): { prefix: Uint8Array; offsets: number[]; dataBytes: number } {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  const offsets: number[] = [];
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes] };
    offsets.push(offset);
    offset += t.bytes;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so tensor data starts 8-byte aligned, as the reference writer does.
  json += ' '.repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8);
  const text = new TextEncoder().encode(json);
  const prefix = new Uint8Array(8 + text.length);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(text.length), true);
  prefix.set(text, 8);
  return { prefix, offsets, dataBytes: offset };
}

/** A safetensors file from tensors in the given order (tests, benchmarks, converted downloads). */
export function encodeSafetensors(tensors: SafetensorsInput[], metadata?: Record<string, string>): Uint8Array {
  const { prefix, offsets, dataBytes } = safetensorsPrefix(
    tensors.map((t) => ({ ...t, bytes: t.data.length })),
    metadata,
  );
  const out = new Uint8Array(prefix.length + dataBytes);
  out.set(prefix);
  tensors.forEach((t, i) => out.set(t.data, prefix.length + offsets[i]!));
  return out;
}
