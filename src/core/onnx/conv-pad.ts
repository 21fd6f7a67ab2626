/**
 * onnxruntime-web 1.30's WebGPU Conv computes wrong results when the input has 9 channels (an
 * inpainting UNet's `conv_in`, 9 → 320, 3×3: 13/255 mean off on a tiny one, measured), while WASM
 * is exact. An ONNX export is rewritten at load so that this Conv sees a multiple of 4 channels:
 * its input goes through a zero Pad on the channel axis and its weight gets zero input channels.
 * The result is the same numbers (zeros times zeros), on every backend.
 *
 * Only what is needed of the protobuf is parsed; every other byte of the model is copied as is.
 */
import { Reader } from './reader';
import { ONNX_FLOAT, ONNX_FLOAT16, ONNX_INT64, Writer } from './writer';

interface Field {
  field: number;
  raw: Uint8Array;
  sub: Reader | null;
  value: number;
}

function fields(bytes: Uint8Array, reader = new Reader(bytes)): Field[] {
  const out: Field[] = [];
  while (reader.more()) {
    const start = reader.pos;
    const f = reader.field();
    out.push({ field: f.field, raw: bytes.subarray(start, reader.pos), sub: f.sub, value: f.value });
  }
  return out;
}

const text = (bytes: Uint8Array, f: Field) =>
  new TextDecoder().decode(bytes.subarray(f.sub!.pos, f.sub!.pos + f.value));
const inner = (bytes: Uint8Array, f: Field) => bytes.subarray(f.sub!.pos, f.sub!.pos + f.value);

interface Node {
  op: string;
  inputs: string[];
  outputs: string[];
  fields: Field[];
  bytes: Uint8Array;
}

function node(bytes: Uint8Array): Node {
  const fs = fields(bytes);
  const strings = (n: number) => fs.filter((f) => f.field === n).map((f) => text(bytes, f));
  return { op: strings(4)[0] ?? '', inputs: strings(1), outputs: strings(2), fields: fs, bytes };
}

interface Tensor {
  name: string;
  dims: number[];
  type: number;
  raw: Uint8Array | null;
  external: Record<string, string>;
}

function tensor(bytes: Uint8Array): Tensor {
  const t: Tensor = { name: '', dims: [], type: 0, raw: null, external: {} };
  let floats: number[] | null = null;
  for (const f of fields(bytes)) {
    if (f.field === 1 && !f.sub) t.dims.push(f.value);
    else if (f.field === 1 && f.sub) while (f.sub.more()) t.dims.push(f.sub.varint());
    else if (f.field === 2) t.type = f.value;
    else if (f.field === 8) t.name = text(bytes, f);
    else if (f.field === 9) t.raw = inner(bytes, f);
    else if (f.field === 4 && f.sub) {
      const b = inner(bytes, f);
      floats = Array.from(new Float32Array(b.slice().buffer));
    } else if (f.field === 13) {
      const e = fields(inner(bytes, f));
      const sub = inner(bytes, f);
      const key = e.find((x) => x.field === 1);
      const value = e.find((x) => x.field === 2);
      if (key && value) t.external[text(sub, key)] = text(sub, value);
    }
  }
  if (!t.raw && floats) t.raw = new Uint8Array(Float32Array.from(floats).buffer);
  return t;
}

/** The opset of the default domain. */
function opset(model: Field[], bytes: Uint8Array): number {
  for (const f of model) {
    if (f.field !== 8 || !f.sub) continue;
    const sub = inner(bytes, f);
    const e = fields(sub);
    const domain = e.find((x) => x.field === 1);
    const version = e.find((x) => x.field === 2);
    if ((!domain || text(sub, domain) === '' || text(sub, domain) === 'ai.onnx') && version) return version.value;
  }
  return 0;
}

export interface ConvPadResult {
  model: Uint8Array;
  /** What was changed, for the log. */
  changed: string;
}

/**
 * The model with its input Conv padded to a multiple of `multiple` input channels, or null when it
 * has none that needs it (or its weight cannot be read: external data not given). `external`
 * gives an external-data file's bytes by its location.
 */
export function padInputConv(
  model: Uint8Array,
  external: (location: string) => Uint8Array | undefined,
  multiple = 4,
): ConvPadResult | null {
  const top = fields(model);
  const graphField = top.find((f) => f.field === 7 && f.sub);
  if (!graphField || opset(top, model) < 11) return null;
  const graphBytes = inner(model, graphField);
  const graph = fields(graphBytes);
  const inputs = new Set(
    graph
      .filter((f) => f.field === 11)
      .map((f) => {
        const sub = inner(graphBytes, f);
        const name = fields(sub).find((x) => x.field === 1);
        return name ? text(sub, name) : '';
      }),
  );
  const nodes = graph.map((f) => (f.field === 1 ? node(inner(graphBytes, f)) : null));
  const initializers = new Map<string, Tensor>();
  for (const f of graph) {
    if (f.field !== 5) continue;
    const t = tensor(inner(graphBytes, f));
    initializers.set(t.name, t);
  }
  // The graph's inputs, and what a Cast makes of them (fp16 exports cast their inputs).
  const fed = new Set(inputs);
  for (const n of nodes) if (n?.op === 'Cast' && fed.has(n.inputs[0] ?? '')) n.outputs.forEach((o) => fed.add(o));
  const at = nodes.findIndex((n) => {
    if (n?.op !== 'Conv' || !fed.has(n.inputs[0] ?? '')) return false;
    const w = initializers.get(n.inputs[1] ?? '');
    const channels = w?.dims[1] ?? 0;
    return w?.dims.length === 4 && channels > multiple && channels % multiple !== 0;
  });
  const conv = nodes[at];
  if (!conv) return null;
  const w = initializers.get(conv.inputs[1]!)!;
  const size = w.type === ONNX_FLOAT ? 4 : w.type === ONNX_FLOAT16 ? 2 : 0;
  if (size === 0) return null;
  let data = w.raw;
  if (!data && w.external['location']) {
    const file = external(w.external['location']);
    const offset = Number(w.external['offset'] ?? 0);
    const count = w.dims.reduce((a, b) => a * b, 1) * size;
    data = file && file.length >= offset + count ? file.subarray(offset, offset + count) : null;
  }
  if (!data) return null;
  const [out, channels, kh, kw] = w.dims as [number, number, number, number];
  const padded = Math.ceil(channels / multiple) * multiple;
  const row = channels * kh * kw * size;
  const weight = new Uint8Array(out * padded * kh * kw * size);
  for (let o = 0; o < out; o++) weight.set(data.subarray(o * row, (o + 1) * row), o * padded * kh * kw * size);

  const x = conv.inputs[0]!;
  const names = { x: `${x}__padded`, w: `${w.name}__padded`, pads: `${x}__channel_pads` };
  const writer = new Writer();
  graph.forEach((f, i) => {
    if (i !== at) {
      writer.raw(f.raw);
      return;
    }
    writer.message(1, (n) => {
      n.string(1, x);
      n.string(1, names.pads);
      n.string(2, names.x);
      n.string(3, names.x);
      n.string(4, 'Pad');
    });
    writer.message(1, (n) => {
      [names.x, names.w, ...conv.inputs.slice(2)].forEach((input) => n.string(1, input));
      for (const cf of conv.fields) if (cf.field !== 1) n.raw(cf.raw);
    });
  });
  writer.message(5, (t) => {
    for (const d of [out, padded, kh, kw]) t.int(1, d);
    t.int(2, w.type);
    t.string(8, names.w);
    t.bytes(9, weight);
  });
  writer.message(5, (t) => {
    t.int(1, 8);
    t.int(2, ONNX_INT64);
    t.string(8, names.pads);
    // Begins then ends per axis (N, C, H, W): zeros after the channels.
    t.bytes(9, new Uint8Array(BigInt64Array.from([0n, 0n, 0n, 0n, 0n, BigInt(padded - channels), 0n, 0n]).buffer));
  });
  const modelWriter = new Writer();
  for (const f of top) {
    if (f === graphField) modelWriter.bytes(7, writer.finish());
    else modelWriter.raw(f.raw);
  }
  return { model: modelWriter.finish(), changed: `${w.name}: ${channels} → ${padded} input channels` };
}
