/**
 * A small builder for ONNX graphs whose weights live in safetensors files: nodes get unique names,
 * constants are shared, and every weight becomes an external initializer pointing at its byte
 * range, checked against the shape the architecture expects.
 */
import { ModelError } from '../errors';
import {
  encodeOnnxModel,
  ONNX_BFLOAT16,
  ONNX_FLOAT,
  ONNX_FLOAT16,
  type Attr,
  type Dim,
  type ExternalInitializer,
  type GraphSpec,
  type NodeSpec,
} from '../onnx/writer';
import type { SafetensorsEntry, SafetensorsHeader } from '../formats/safetensors';

/** opset 17: LayerNormalization, Resize with sizes, Shape with start/end, Softmax on one axis. */
export const OPSET = 17;

/** One safetensors file of a component, and the name the runtime gets its bytes under. */
export interface WeightFile {
  header: SafetensorsHeader;
  /** The external-data location written into the graph (the runtime's `externalData[].path`). */
  location: string;
}

/** A component's weights: one file, or the shards of `*.safetensors.index.json`. */
export class WeightSet {
  private readonly byName = new Map<string, { entry: SafetensorsEntry; file: WeightFile }>();
  /** Names read by a graph, so a test can say which tensors a build used. */
  readonly used = new Set<string>();

  constructor(
    readonly files: WeightFile[],
    /** Prefixes tried in order when a name is not found as is (transformers' `text_model.`). */
    private readonly prefixes: string[] = [''],
  ) {
    for (const file of files) {
      for (const entry of file.header.tensors.values()) this.byName.set(entry.name, { entry, file });
    }
  }

  /** The file names, for messages. */
  describe(): string {
    return this.files.map((f) => f.header.file).join(', ');
  }

  find(name: string): { entry: SafetensorsEntry; file: WeightFile } | undefined {
    for (const prefix of this.prefixes) {
      const hit = this.byName.get(prefix + name);
      if (hit) return hit;
    }
    return undefined;
  }

  has(name: string): boolean {
    return this.find(name) !== undefined;
  }

  /** The tensor a graph asks for under `name` with the shape it expects (a subclass may make it up). */
  resolve(name: string, _shape: number[]): { entry: SafetensorsEntry; file: WeightFile } | undefined {
    return this.find(name);
  }
}

const TYPE_OF: Partial<Record<SafetensorsEntry['dtype'], number>> = {
  F32: ONNX_FLOAT,
  F16: ONNX_FLOAT16,
  BF16: ONNX_BFLOAT16,
};

/**
 * How a torch Linear ([out, in] weights) becomes ONNX: 'gemm' flattens to 2-D and uses Gemm's
 * transB, reading the weights as stored; 'matmul' multiplies by a Transpose of the initializer,
 * which ORT folds at session creation into a transposed copy, on the CPU. The loader picks per
 * backend (see workers/model-loader.ts); Gemm is the default since it rewrites no weight.
 */
export type LinearForm = 'matmul' | 'gemm';

/**
 * The float type a graph computes in. 'float16' is for WebGPU adapters with shader-f16: weights
 * stay in the file's fp16 bytes and activations are half as large; the places diffusers keeps in
 * float32 stay float32 (see `groupNorm`, `scaledDotProductAttention`'s `upcast`, `timesteps`).
 * A graph's inputs and outputs are float32 either way, so the pipeline never sees the difference.
 */
export type Precision = 'float32' | 'float16';

/**
 * onnxruntime contrib operators a graph may use in place of the plain ONNX it would otherwise
 * write. Which ones a backend gets is decided by measurement (see worker/runtime/graph-form.ts):
 * WASM has none of them, and each WebGPU kernel must first equal the plain graph there.
 */
export type FusedKernel = 'BiasSplitGelu';

export interface GraphOptions {
  linear?: LinearForm;
  precision?: Precision;
  fused?: readonly FusedKernel[];
}

/** Every choice of how a loaded model's graphs are built, kept to rebuild them (LoRA, embeddings). */
export type GraphForm = Required<GraphOptions>;

/** The lowest finite value of each compute type (what torch's `finfo(dtype).min` gives for masks). */
const LOWEST: Record<Precision, number> = { float32: -3.4028234663852886e38, float16: -65504 };

export class Graph {
  private readonly nodes: NodeSpec[] = [];
  private readonly inputs: GraphSpec['inputs'] = [];
  private readonly outputs: GraphSpec['outputs'] = [];
  private readonly int64s: GraphSpec['int64s'] = [];
  private readonly floats: NonNullable<GraphSpec['floats']> = [];
  private readonly initializers: ExternalInitializer[] = [];
  private readonly constants = new Map<string, string>();
  private readonly weightNames = new Map<string, string>();
  private count = 0;

  readonly linearForm: LinearForm;
  readonly precision: Precision;
  /** The ONNX type activations and weights have inside the graph. */
  readonly computeType: number;
  private readonly fused: ReadonlySet<FusedKernel>;

  constructor(
    readonly name: string,
    readonly weights: WeightSet,
    options: GraphOptions = {},
  ) {
    this.linearForm = options.linear ?? 'gemm';
    this.precision = options.precision ?? 'float32';
    this.computeType = this.precision === 'float16' ? ONNX_FLOAT16 : ONNX_FLOAT;
    this.fused = new Set(options.fused ?? []);
  }

  /** Whether this graph may use the contrib operator `kernel`. */
  uses(kernel: FusedKernel): boolean {
    return this.fused.has(kernel);
  }

  /** The compute type's lowest finite value, for masks. */
  get lowest(): number {
    return LOWEST[this.precision];
  }

  /** A float32 value (a graph input, a float32 island) in the compute type. */
  toCompute(x: string): string {
    return this.computeType === ONNX_FLOAT ? x : this.op('Cast', [x], [{ name: 'to', i: this.computeType }]);
  }

  /** A compute-type value as float32 (graph outputs, statistics, upcast attention scores). */
  toFloat32(x: string): string {
    return this.computeType === ONNX_FLOAT ? x : this.op('Cast', [x], [{ name: 'to', i: ONNX_FLOAT }]);
  }

  input(name: string, type: number, dims: Dim[]): string {
    this.inputs.push({ name, type, dims });
    return name;
  }

  /** Names `value` as a graph output (through Identity when it already has another name). */
  output(name: string, value: string, type: number, dims: Dim[]): void {
    if (value !== name) this.nodes.push({ op: 'Identity', inputs: [value], outputs: [name] });
    this.outputs.push({ name, type, dims });
  }

  private fresh(hint: string): string {
    return `${hint}_${this.count++}`;
  }

  /** One node; returns its first output. */
  op(op: string, inputs: string[], attrs: Attr[] = []): string {
    return this.opN(op, inputs, 1, attrs)[0]!;
  }

  opN(op: string, inputs: string[], outputs: number, attrs: Attr[] = [], domain?: string): string[] {
    const names = Array.from({ length: outputs }, () => this.fresh(op));
    this.nodes.push({ op, inputs, outputs: names, ...(attrs.length ? { attrs } : {}), ...(domain ? { domain } : {}) });
    return names;
  }

  /** One of onnxruntime's contrib operators (domain `com.microsoft`), e.g. BiasSplitGelu. */
  contribOp(op: string, inputs: string[], attrs: Attr[] = [], outputs = 1): string[] {
    return this.opN(op, inputs, outputs, attrs, 'com.microsoft');
  }

  /** An int64 constant, shared between the nodes that use the same values. */
  ints(values: number[], dims?: number[]): string {
    const key = `i:${values.join(',')}:${dims?.join(',') ?? ''}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.fresh('const_i64');
      this.int64s.push({ name, values, ...(dims ? { dims } : {}) });
      this.constants.set(key, name);
    }
    return name;
  }

  /** A float constant (a scalar when dims is []): float32 unless `type` says float16. */
  floatsConst(values: Float32Array | number[], dims: number[], type: number = ONNX_FLOAT): string {
    const small = values.length <= 16;
    const key = small ? `f${type}:${Array.from(values).join(',')}:${dims.join(',')}` : '';
    const known = small ? this.constants.get(key) : undefined;
    if (known) return known;
    const name = this.fresh(type === ONNX_FLOAT16 ? 'const_f16' : 'const_f32');
    this.floats.push({ name, values, dims, ...(type === ONNX_FLOAT ? {} : { type }) });
    if (small) this.constants.set(key, name);
    return name;
  }

  /** A constant in the compute type. */
  constant(values: Float32Array | number[], dims: number[]): string {
    return this.floatsConst(values, dims, this.computeType);
  }

  /** A scalar in the compute type, or in `type` (float32 islands). */
  scalar(value: number, type: number = this.computeType): string {
    return this.floatsConst([value], [], type);
  }

  /**
   * A weight in the compute type: an external initializer over the tensor's bytes (declared with
   * `shape`, which must hold the same number of elements as the file's), cast when stored in
   * another type. ORT folds such a cast when it creates the session, on the CPU inside its heap,
   * so the runtime converts files to the compute type first (`convertWeights`) and none is left.
   */
  weight(name: string, shape: number[]): string {
    const key = `${name}:${shape.join(',')}`;
    const known = this.weightNames.get(key);
    if (known) return known;
    const hit = this.weights.resolve(name, shape);
    if (!hit) {
      throw new ModelError(`${this.weights.describe()} has no tensor "${name}", which ${this.name} needs.`);
    }
    const { entry, file } = hit;
    const want = shape.reduce((a, b) => a * b, 1);
    const have = entry.shape.reduce((a, b) => a * b, 1);
    if (want !== have) {
      throw new ModelError(
        `${file.header.file}: "${entry.name}" has shape [${entry.shape.join(', ')}], but the config makes ${this.name} expect [${shape.join(', ')}].`,
      );
    }
    const type = TYPE_OF[entry.dtype];
    if (type === undefined) {
      throw new ModelError(`${file.header.file}: "${entry.name}" is ${entry.dtype}; weights must be F32, F16 or BF16.`);
    }
    this.weights.used.add(entry.name);
    const raw = `w:${entry.name}`;
    this.initializers.push({
      name: raw,
      type,
      dims: shape,
      location: file.location,
      offset: entry.begin,
      length: entry.end - entry.begin,
    });
    const value = type === this.computeType ? raw : this.op('Cast', [raw], [{ name: 'to', i: this.computeType }]);
    this.weightNames.set(key, value);
    return value;
  }

  spec(): GraphSpec {
    return {
      name: this.name,
      inputs: this.inputs,
      outputs: this.outputs,
      int64s: this.int64s,
      floats: this.floats,
      initializers: this.initializers,
      nodes: this.nodes,
      opset: OPSET,
    };
  }

  encode(): Uint8Array {
    return encodeOnnxModel(this.spec());
  }
}
