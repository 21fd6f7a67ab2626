/** A small ONNX graph builder over onnx-proto: enough to write the tiny test models. */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
export const DataType = onnx.TensorProto.DataType;
export type Dim = number | string;

/** Integers, integer lists and strings as they are; a float attribute as `{ f: value }`. */
type AttrValue = number | number[] | string | { f: number };

export class GraphBuilder {
  private readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  private readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private readonly inputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly outputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private counter = 0;

  constructor(private readonly name: string) {}

  input(name: string, elemType: number, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  output(name: string, elemType: number, dims: Dim[]): void {
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  /** A float32 weight. */
  weight(data: Float32Array, dims: number[], hint = 'w'): string {
    const name = `${hint}_${this.counter++}`;
    this.initializers.push(onnx.TensorProto.create({ name, dataType: DataType.FLOAT, dims, rawData: bytes(data) }));
    return name;
  }

  int64(values: number[], hint = 'i'): string {
    const name = `${hint}_${this.counter++}`;
    const data = BigInt64Array.from(values.map(BigInt));
    this.initializers.push(
      onnx.TensorProto.create({ name, dataType: DataType.INT64, dims: [values.length], rawData: bytes(data) }),
    );
    return name;
  }

  int64Scalar(value: number): string {
    const name = `i_${this.counter++}`;
    this.initializers.push(
      onnx.TensorProto.create({
        name,
        dataType: DataType.INT64,
        dims: [],
        rawData: bytes(BigInt64Array.of(BigInt(value))),
      }),
    );
    return name;
  }

  scalar(value: number): string {
    return this.weight(Float32Array.of(value), [], 'c');
  }

  /** Adds a node; returns its outputs' names (or the one given). */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputName?: string): string {
    const out = outputName ?? `${opType.toLowerCase()}_${this.counter++}`;
    const attribute = Object.entries(attrs).map(([name, value]) => attr(name, value));
    this.nodes.push(onnx.NodeProto.create({ opType, input: inputs, output: [out], attribute, name: out }));
    return out;
  }

  encode(opset = 17): Uint8Array {
    const graph = onnx.GraphProto.create({
      name: this.name,
      node: this.nodes,
      initializer: this.initializers,
      input: this.inputs,
      output: this.outputs,
    });
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'latent-studio tiny-models',
      opsetImport: [{ domain: '', version: opset }],
      graph,
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, elemType: number, dims: Dim[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

function attr(name: string, value: AttrValue) {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string')
    return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(value) });
  if (Array.isArray(value)) return onnx.AttributeProto.create({ name, type: T.INTS, ints: value });
  if (typeof value === 'object') return onnx.AttributeProto.create({ name, type: T.FLOAT, f: value.f });
  return onnx.AttributeProto.create({ name, type: T.INT, i: value });
}

function bytes(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}
