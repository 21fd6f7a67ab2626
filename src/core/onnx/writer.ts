/**
 * Just enough of ONNX's protobuf encoding to write small graphs at run time (the GPU step graph),
 * without a protobuf library in the worker: the fields used are varints, length-delimited
 * messages, strings and raw bytes. Field numbers follow onnx.proto.
 */
import { float32ToFloat16 } from '../math/float16';

export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;
export const ONNX_FLOAT16 = 10;
export const ONNX_INT32 = 6;
export const ONNX_BFLOAT16 = 16;

export type Dim = number | string;
export type Attr =
  | { name: string; i: number }
  | { name: string; ints: number[] }
  | { name: string; f: number }
  | { name: string; s: string };

/** A weight kept outside the graph: a byte range of a file handed to the runtime as external data. */
export interface ExternalInitializer {
  name: string;
  type: number;
  dims: number[];
  location: string;
  offset: number;
  length: number;
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Attr[];
  /** An operator set other than ONNX's own (onnxruntime's contrib ops are `com.microsoft`, version 1). */
  domain?: string;
}

export interface GraphSpec {
  name: string;
  inputs: { name: string; type: number; dims: Dim[] }[];
  outputs: { name: string; type: number; dims: Dim[] }[];
  /** int64 constants (shape and index vectors), 1-D unless dims are given. */
  int64s: { name: string; values: number[]; dims?: number[] }[];
  /**
   * Small float constants written into the graph (norm scales, frequency tables, masks): float32,
   * or float16 (rounded to nearest even, as torch's `.half()`) when `type` is ONNX_FLOAT16.
   */
  floats?: { name: string; values: Float32Array | number[]; dims: number[]; type?: number }[];
  /** Weights as external data: the graph stays kilobytes, the bytes stay in their file. */
  initializers?: ExternalInitializer[];
  nodes: NodeSpec[];
  opset: number;
}

/** A protobuf message being written (fields in order; `raw` appends fields already encoded). */
export class Writer {
  private readonly parts: number[] = [];
  private readonly chunks: Uint8Array[] = [];

  /** Big byte runs are kept as chunks rather than pushed byte by byte. */
  private flushParts(): void {
    if (this.parts.length === 0) return;
    this.chunks.push(Uint8Array.from(this.parts));
    this.parts.length = 0;
  }

  varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.parts.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.parts.push(Number(v));
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, value: number): void {
    this.tag(field, 0);
    this.varint(value);
  }

  bytes(field: number, data: Uint8Array): void {
    this.tag(field, 2);
    this.varint(data.length);
    if (data.length < 256) {
      for (const b of data) this.parts.push(b);
    } else {
      this.flushParts();
      this.chunks.push(data);
    }
  }

  /** Bytes that are already encoded fields (copied from another message). */
  raw(data: Uint8Array): void {
    this.flushParts();
    this.chunks.push(data);
  }

  float32(field: number, value: number): void {
    this.tag(field, 5);
    const raw = new Uint8Array(new Float32Array([value]).buffer);
    for (const b of raw) this.parts.push(b);
  }

  string(field: number, text: string): void {
    this.bytes(field, new TextEncoder().encode(text));
  }

  message(field: number, build: (w: Writer) => void): void {
    const inner = new Writer();
    build(inner);
    this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    this.flushParts();
    if (this.chunks.length === 1) return this.chunks[0]!;
    const out = new Uint8Array(this.chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

function valueInfo(w: Writer, field: number, v: { name: string; type: number; dims: Dim[] }): void {
  w.message(field, (info) => {
    info.string(1, v.name);
    info.message(2, (type) =>
      type.message(1, (tensorType) => {
        tensorType.int(1, v.type);
        tensorType.message(2, (shape) => {
          for (const d of v.dims) {
            shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
          }
        });
      }),
    );
  });
}

/** The serialized ModelProto. */
export function encodeOnnxModel(spec: GraphSpec): Uint8Array {
  const model = new Writer();
  model.int(1, 8); // ir_version
  model.string(2, 'latent-studio');
  model.message(7, (graph) => {
    for (const node of spec.nodes) {
      graph.message(1, (n) => {
        for (const input of node.inputs) n.string(1, input);
        for (const output of node.outputs) n.string(2, output);
        n.string(3, node.outputs[0]!);
        n.string(4, node.op);
        if (node.domain) n.string(7, node.domain);
        for (const a of node.attrs ?? []) {
          n.message(5, (attr) => {
            attr.string(1, a.name);
            if ('i' in a) {
              attr.int(3, a.i);
              attr.int(20, 2); // INT
            } else if ('f' in a) {
              attr.float32(2, a.f);
              attr.int(20, 1); // FLOAT
            } else if ('s' in a) {
              attr.string(4, a.s);
              attr.int(20, 3); // STRING
            } else {
              for (const v of a.ints) attr.int(8, v);
              attr.int(20, 7); // INTS
            }
          });
        }
      });
    }
    graph.string(2, spec.name);
    for (const c of spec.int64s) {
      graph.message(5, (t) => {
        for (const d of c.dims ?? [c.values.length]) t.int(1, d);
        t.int(2, ONNX_INT64);
        t.string(8, c.name);
        const raw = BigInt64Array.from(c.values, (v) => BigInt(v));
        t.bytes(9, new Uint8Array(raw.buffer));
      });
    }
    for (const c of spec.floats ?? []) {
      graph.message(5, (t) => {
        for (const d of c.dims) t.int(1, d);
        const half = c.type === ONNX_FLOAT16;
        t.int(2, half ? ONNX_FLOAT16 : ONNX_FLOAT);
        t.string(8, c.name);
        const data = half ? float32ToFloat16(Float32Array.from(c.values)) : Float32Array.from(c.values);
        t.bytes(9, new Uint8Array(data.buffer));
      });
    }
    for (const c of spec.initializers ?? []) {
      graph.message(5, (t) => {
        for (const d of c.dims) t.int(1, d);
        t.int(2, c.type);
        t.string(8, c.name);
        const entry = (key: string, value: string) =>
          t.message(13, (e) => {
            e.string(1, key);
            e.string(2, value);
          });
        entry('location', c.location);
        entry('offset', String(c.offset));
        entry('length', String(c.length));
        t.int(14, 1); // data_location = EXTERNAL
      });
    }
    for (const input of spec.inputs) valueInfo(graph, 11, input);
    for (const output of spec.outputs) valueInfo(graph, 12, output);
  });
  model.message(8, (opset) => {
    opset.string(1, '');
    opset.int(2, spec.opset);
  });
  for (const domain of new Set(spec.nodes.flatMap((n) => (n.domain ? [n.domain] : [])))) {
    model.message(8, (opset) => {
      opset.string(1, domain);
      opset.int(2, 1);
    });
  }
  return model.finish();
}
