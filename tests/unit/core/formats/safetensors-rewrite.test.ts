/**
 * safetensors files rewritten while they arrive: float32 converted to fp16 is torch's own `.half()`
 * (the reference repos' fp16 variants, bit for bit), a file split into shards holds every tensor
 * once, unchanged, each shard under its limit, whatever the chunking; the input's SHA-256 is the
 * published one.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SafetensorsRewriter } from '../../../../src/core/formats/safetensors-rewrite';
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
      const writer = new SafetensorsRewriter('w.safetensors', full.length, { toFp16: true });
      for (const c of chunks(full, seed)) writer.write(c);
      const { files, sha256 } = writer.finish();
      expect(files).toHaveLength(1);
      const bytes = files[0]!;
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

  it.each([
    [false, 200_000],
    [true, 150_000],
  ])('split into shards (fp16: %s, at most %i data bytes each): every tensor once, as it was', (toFp16, limit) => {
    const source = `${NETWORKS_DIR}sd1/unet/diffusion_pytorch_model${toFp16 ? '' : '.fp16'}.safetensors`;
    const full = new Uint8Array(readFileSync(source));
    const want = new Uint8Array(readFileSync(`${NETWORKS_DIR}sd1/unet/diffusion_pytorch_model.fp16.safetensors`));
    const wanted = parseSafetensors('want', want);
    const writer = new SafetensorsRewriter('unet.safetensors', full.length, { toFp16, shardBytes: limit });
    for (const c of chunks(full, 3)) writer.write(c);
    const { files, sha256 } = writer.finish();
    expect(sha256).toBe(createHash('sha256').update(full).digest('hex'));
    expect(files.length).toBeGreaterThan(3);
    const seen = new Set<string>();
    for (const file of files) {
      const h = parseSafetensors('shard', file);
      const data = [...h.tensors.values()].reduce((n, e) => n + e.end - e.begin, 0);
      // A tensor larger than the limit has a shard of its own.
      expect(data <= limit || h.tensors.size === 1).toBe(true);
      for (const [name, g] of h.tensors) {
        expect(seen.has(name), name).toBe(false);
        seen.add(name);
        const w = wanted.tensors.get(name)!;
        expect(g.shape, name).toEqual(w.shape);
        expect(Buffer.compare(file.subarray(g.begin, g.end), want.subarray(w.begin, w.end)), name).toBe(0);
      }
    }
    expect(seen.size).toBe(wanted.tensors.size);
  });

  it('a file that ends early is said to, with how far it got', () => {
    const full = new Uint8Array(readFileSync(`${NETWORKS_DIR}sd1/vae/diffusion_pytorch_model.safetensors`));
    const writer = new SafetensorsRewriter('vae.safetensors', full.length, { toFp16: true });
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
