/** IEEE half precision ↔ float32, for models whose inputs or outputs are float16. */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function toHalf(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa rounds up into the exponent, which is the right result.
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

export function fromHalf(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

export function float32ToFloat16(data: Float32Array): Uint16Array {
  const out = new Uint16Array(data.length);
  narrowToHalves(data, out);
  return out;
}

/** float32 → float16 bits into `out`, rounded to nearest even: bit-equal to torch's `.half()`. */
export function narrowToHalves(data: Float32Array, out: Uint16Array): void {
  for (let i = 0; i < data.length; i++) out[i] = toHalf(data[i]!);
}

export function float16ToFloat32(data: Uint16Array): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = fromHalf(data[i]!);
  return out;
}

let table: Float32Array | null = null;

/** float16 bits → float32 into `out`, through a 65536-entry table: fast enough for whole weight files. */
export function widenHalves(data: Uint16Array, out: Float32Array): void {
  if (!table) {
    table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) table[i] = fromHalf(i);
  }
  const t = table;
  for (let i = 0; i < data.length; i++) out[i] = t[data[i]!]!;
}
