/**
 * A port of PyTorch's CPU generator (mt19937 plus the transforms behind `torch.randn` and
 * `torch.rand` for float32), so a seed here starts from the same noise as
 * `torch.randn(shape, generator=torch.Generator().manual_seed(seed))` in diffusers.
 */

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;
const TWO_PI = 2 * Math.PI;
/** Below this many elements torch draws each normal from two doubles (Box-Muller, one cached). */
const VECTOR_THRESHOLD = 16;

export const MAX_SEED = (1n << 64n) - 1n;

export class TorchGenerator {
  private readonly state = new Uint32Array(N);
  private index = N;
  /** torch caches the sine half of a double Box-Muller pair for the next scalar draw. */
  private nextDoubleNormal: number | null = null;

  constructor(seed: number | bigint) {
    const big = typeof seed === 'bigint' ? seed : BigInt(seed);
    if (typeof seed === 'number' && !Number.isSafeInteger(seed)) {
      throw new RangeError(`Seed ${seed} is not an exact integer; pass a bigint for seeds over 2^53.`);
    }
    if (big < 0n || big > MAX_SEED) {
      throw new RangeError(`Seed must be an integer from 0 to 2^64-1, got ${big}.`);
    }
    // torch's mt19937 keeps only the low 32 bits of the 64-bit seed for its state.
    this.state[0] = Number(big & 0xffffffffn);
    for (let i = 1; i < N; i++) {
      const prev = this.state[i - 1]!;
      this.state[i] = (Math.imul(1812433253, prev ^ (prev >>> 30)) + i) >>> 0;
    }
  }

  /** One 32-bit draw of the Mersenne Twister. */
  nextUint32(): number {
    if (this.index >= N) this.twist();
    let y = this.state[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  private twist(): void {
    const s = this.state;
    for (let i = 0; i < N; i++) {
      const y = (s[i]! & UPPER_MASK) | (s[(i + 1) % N]! & LOWER_MASK);
      let v = s[(i + M) % N]! ^ (y >>> 1);
      if (y & 1) v ^= MATRIX_A;
      s[i] = v >>> 0;
    }
    this.index = 0;
  }

  /** uniform_real_distribution<float>(0, 1): 24 random bits. */
  private uniformFloat(): number {
    return (this.nextUint32() & 0xffffff) / 0x1000000;
  }

  /** uniform_real_distribution<double>(0, 1): 53 bits from two draws, the first one high. */
  private uniformDouble(): number {
    const hi = this.nextUint32();
    const lo = this.nextUint32();
    // (hi << 32 | lo) & (2^53 - 1) = (hi & 0x1fffff) * 2^32 + lo
    return ((hi & 0x1fffff) * 0x100000000 + lo) / 2 ** 53;
  }

  /** at::normal_distribution<double> as torch's scalar path uses it. */
  private normalDouble(): number {
    if (this.nextDoubleNormal !== null) {
      const cached = this.nextDoubleNormal;
      this.nextDoubleNormal = null;
      return cached;
    }
    const u1 = this.uniformDouble();
    const u2 = this.uniformDouble();
    const r = Math.sqrt(-2 * Math.log1p(-u2));
    const theta = TWO_PI * u1;
    this.nextDoubleNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** `torch.randn(count)` in float32, advancing the state as torch does. */
  randn(count: number): Float32Array {
    assertCount(count);
    const out = new Float32Array(count);
    if (count < VECTOR_THRESHOLD) {
      for (let i = 0; i < count; i++) out[i] = this.normalDouble();
      return out;
    }
    for (let i = 0; i < count; i++) out[i] = this.uniformFloat();
    for (let i = 0; i + VECTOR_THRESHOLD <= count; i += VECTOR_THRESHOLD) boxMuller16(out, i);
    if (count % VECTOR_THRESHOLD !== 0) {
      // torch redraws the last 16 values and transforms them again.
      const start = count - VECTOR_THRESHOLD;
      for (let i = 0; i < VECTOR_THRESHOLD; i++) out[start + i] = this.uniformFloat();
      boxMuller16(out, start);
    }
    return out;
  }

  /** `torch.rand(count)` in float32. */
  rand(count: number): Float32Array {
    assertCount(count);
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = this.uniformFloat();
    return out;
  }
}

/** torch's normal_fill_16: pairs element j with j+8 in a block of 16 uniforms. */
function boxMuller16(data: Float32Array, offset: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = 1 - data[offset + j]!;
    const u2 = data[offset + j + 8]!;
    const radius = Math.sqrt(-2 * Math.log(u1));
    const theta = TWO_PI * u2;
    data[offset + j] = radius * Math.cos(theta);
    data[offset + j + 8] = radius * Math.sin(theta);
  }
}

function assertCount(count: number): void {
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`Element count must be a non-negative integer, got ${count}.`);
  }
}

/** Parses a seed typed by a person or read from JSON: decimal digits only, 0..2^64-1. */
export function parseSeed(text: string): bigint | null {
  const trimmed = text.trim();
  if (!/^\d{1,20}$/.test(trimmed)) return null;
  const value = BigInt(trimmed);
  return value <= MAX_SEED ? value : null;
}

/** A random seed for the "new seed" button: uniform over 0..2^53-1 so it fits a JSON number. */
export function randomSeed(random: () => number = Math.random): bigint {
  const hi = Math.floor(random() * 0x200000);
  const lo = Math.floor(random() * 0x100000000);
  return BigInt(hi) * 0x100000000n + BigInt(lo);
}
