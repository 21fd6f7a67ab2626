/**
 * float32 weights converted to fp16 while they arrive: the result is torch's own `.half()` (the
 * reference repos' fp16 variants, bit for bit), whatever the chunking, and the input's SHA-256 is
 * the published one.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Fp16Writer } from '../../../../src/core/formats/safetensors-fp16';
import { parseSafetensors } from '../../../../src/core/formats/safetensors';
import { Sha256 } from '../../../../src/core/formats/sha256';
import { NETWORKS_DIR } from '../../../helpers/fixtures';

const PARTS = [
  ['unet', 'diffusion_pytorch_model'],
  ['vae', 'diffusion_pytorch_model'],
  ['text_encoder', 'model'],
] as const;

/** A deterministic mix of chunk sizes: single bytes, odd sizes, large blocks. */
function chunks(bytes: Uint8Array, seed: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let state = seed;
  for (let at = 0; at < bytes.length;) {
    state = (state * 1103515245 + 12345) >>> 0;
    const size = [1, 3, 7, 4093, 65536, 1 + (state % 9000)][state % 6]!;
    out.push(bytes.subarray(at, at + size));
    at += size;
  }
  return out;
}

describe('float32 → fp16 while downloading', () => {
  it.each(PARTS)('sd1 %s: the fp16 variant diffusers saved, tensor for tensor, in any chunking', (dir, stem) => {
    const full = new Uint8Array(readFileSync(`${NETWORKS_DIR}sd1/${dir}/${stem}.safetensors`));
    const half = new Uint8Array(readFileSync(`${NETWORKS_DIR}sd1/${dir}/${stem}.fp16.safetensors`));
    const want = parseSafetensors('half', half);
    for (const seed of [1, 2]) {
      const writer = new Fp16Writer('w.safetensors', full.length);
      for (const c of chunks(full, seed)) writer.write(c);
      const { bytes, sha256 } = writer.finish();
      expect(sha256).toBe(createHash('sha256').update(full).digest('hex'));
      expect(bytes.length).toBeLessThan(full.length * 0.51);
      const got = parseSafetensors('got', bytes);
      expect([...got.tensors.keys()].sort()).toEqual([...want.tensors.keys()].sort());
      for (const [name, w] of want.tensors) {
        const g = got.tensors.get(name)!;
        expect(g.dtype, name).toBe(w.dtype);
        expect(g.shape, name).toEqual(w.shape);
        expect(Buffer.compare(bytes.subarray(g.begin, g.end), half.subarray(w.begin, w.end)), name).toBe(0);
      }
    }
  });

  it('a file that ends early is said to, with how far it got', () => {
    const full = new Uint8Array(readFileSync(`${NETWORKS_DIR}sd1/vae/diffusion_pytorch_model.safetensors`));
    const writer = new Fp16Writer('vae.safetensors', full.length);
    writer.write(full.subarray(0, 5000));
    expect(() => writer.finish()).toThrow(`vae.safetensors ended after 5000 of ${full.length} bytes.`);
  });

  it('SHA-256 over chunks is the standard digest (empty, one block, many)', () => {
    for (const data of [
      new Uint8Array(0),
      new TextEncoder().encode('abc'),
      new Uint8Array(200_003).map((_, i) => i * 7),
    ]) {
      const h = new Sha256();
      for (const c of chunks(data, 5)) h.update(c);
      expect(h.hex()).toBe(createHash('sha256').update(data).digest('hex'));
    }
  });
});
