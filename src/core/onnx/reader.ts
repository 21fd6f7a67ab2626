/**
 * Just enough of ONNX's protobuf encoding to read what a graph computes in before handing it to
 * the runtime: the element types of its inputs and initializers. Field numbers follow onnx.proto.
 */
import { ONNX_FLOAT16 } from './writer';

/** A protobuf message being read, field by field. */
export class Reader {
  pos = 0;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly end = bytes.length,
  ) {}

  more(): boolean {
    return this.pos < this.end;
  }

  varint(): number {
    let result = 0;
    let shift = 1;
    for (;;) {
      if (this.pos >= this.end) throw new RangeError('truncated varint');
      const b = this.bytes[this.pos++]!;
      result += (b & 0x7f) * shift;
      if (b < 0x80) return result;
      shift *= 128;
    }
  }

  /** The next field: its number, wire type, and (for length-delimited fields) a reader over it. */
  field(): { field: number; wire: number; value: number; sub: Reader | null } {
    const tag = this.varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    switch (wire) {
      case 0:
        return { field, wire, value: this.varint(), sub: null };
      case 1:
        this.pos += 8;
        return { field, wire, value: 0, sub: null };
      case 5:
        this.pos += 4;
        return { field, wire, value: 0, sub: null };
      case 2: {
        const length = this.varint();
        const start = this.pos;
        this.pos += length;
        if (this.pos > this.end) throw new RangeError('truncated field');
        return { field, wire, value: length, sub: new Reader(this.bytes, start + length).at(start) };
      }
      default:
        throw new RangeError(`wire type ${wire}`);
    }
  }

  private at(pos: number): Reader {
    this.pos = pos;
    return this;
  }
}

/** Every element type a graph's inputs and initializers use (TensorProto.DataType numbers). */
export function onnxElementTypes(model: Uint8Array): Set<number> {
  const types = new Set<number>();
  const top = new Reader(model);
  while (top.more()) {
    const f = top.field();
    if (f.field !== 7 || !f.sub) continue; // ModelProto.graph
    const graph = f.sub;
    while (graph.more()) {
      const g = graph.field();
      if (!g.sub) continue;
      if (g.field === 5) {
        // GraphProto.initializer → TensorProto.data_type (2)
        while (g.sub.more()) {
          const t = g.sub.field();
          if (t.field === 2 && t.wire === 0) types.add(t.value);
        }
      } else if (g.field === 11) {
        // GraphProto.input → ValueInfoProto.type (2) → TypeProto.tensor_type (1) → elem_type (1)
        while (g.sub.more()) {
          const v = g.sub.field();
          if (v.field !== 2 || !v.sub) continue;
          while (v.sub.more()) {
            const tt = v.sub.field();
            if (tt.field !== 1 || !tt.sub) continue;
            while (tt.sub.more()) {
              const e = tt.sub.field();
              if (e.field === 1 && e.wire === 0) types.add(e.value);
            }
          }
        }
      }
    }
  }
  return types;
}

/** Whether a graph takes or holds float16 tensors (and so needs shader-f16 on WebGPU). */
export function onnxUsesFloat16(model: Uint8Array): boolean {
  try {
    return onnxElementTypes(model).has(ONNX_FLOAT16);
  } catch {
    // Not parseable here: ONNX Runtime will say what is wrong with it.
    return false;
  }
}

/**
 * The files a graph's initializers keep their bytes in (TensorProto.external_data's "location"),
 * as exporters write them beside the graph: `model.onnx_data`, `weights.pb`, one file per tensor.
 */
export function onnxExternalLocations(model: Uint8Array): string[] {
  const locations = new Set<string>();
  const text = new TextDecoder();
  const top = new Reader(model);
  while (top.more()) {
    const f = top.field();
    if (f.field !== 7 || !f.sub) continue; // ModelProto.graph
    while (f.sub.more()) {
      const g = f.sub.field();
      if (g.field !== 5 || !g.sub) continue; // GraphProto.initializer
      while (g.sub.more()) {
        const t = g.sub.field();
        if (t.field !== 13 || !t.sub) continue; // TensorProto.external_data: {key: 1, value: 2}
        let key = '';
        let value = '';
        while (t.sub.more()) {
          const e = t.sub.field();
          if (!e.sub) continue;
          const s = text.decode(model.subarray(e.sub.pos, e.sub.pos + e.value));
          if (e.field === 1) key = s;
          else if (e.field === 2) value = s;
        }
        if (key === 'location' && value) locations.add(value);
      }
    }
  }
  return [...locations];
}
