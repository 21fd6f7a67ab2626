/**
 * Just enough of ONNX's protobuf encoding to write small graphs at run time (the GPU step graph),
 * without a protobuf library in the worker: the fields used are varints, length-delimited
 * messages, strings and raw bytes. Field numbers follow onnx.proto.
 */

export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;
export const ONNX_FLOAT16 = 10;

export type Dim = number | string;
type Attr = { name: string; i: number } | { name: string; ints: number[] };

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Attr[];
}

export interface GraphSpec {
  name: string;
  inputs: { name: string; type: number; dims: Dim[] }[];
  outputs: { name: string; type: number; dims: Dim[] }[];
  /** int64 constants (shape and index vectors). */
  int64s: { name: string; values: number[] }[];
  nodes: NodeSpec[];
  opset: number;
}

class Writer {
  private readonly parts: number[] = [];

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
    for (const b of data) this.parts.push(b);
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
    return Uint8Array.from(this.parts);
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
        for (const a of node.attrs ?? []) {
          n.message(5, (attr) => {
            attr.string(1, a.name);
            if ('i' in a) {
              attr.int(3, a.i);
              attr.int(20, 2); // INT
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
        t.int(1, c.values.length);
        t.int(2, ONNX_INT64);
        t.string(8, c.name);
        const raw = BigInt64Array.from(c.values, (v) => BigInt(v));
        t.bytes(9, new Uint8Array(raw.buffer));
      });
    }
    for (const input of spec.inputs) valueInfo(graph, 11, input);
    for (const output of spec.outputs) valueInfo(graph, 12, output);
  });
  model.message(8, (opset) => {
    opset.string(1, '');
    opset.int(2, spec.opset);
  });
  return model.finish();
}
