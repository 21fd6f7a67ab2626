/** The largest tensor of a run, from the configs: SD 1.5's figures worked by hand. */
import { describe, expect, it } from 'vitest';
import { readUnetConfig, readVaeConfig } from '../../../../src/core/networks/config';
import { bindingCheck, largestTensor } from '../../../../src/core/networks/tensor-sizes';
import { SD15_UNET, SD15_VAE } from '../../../../scripts/bench/full-size';
import { ValidationError } from '../../../../src/core/errors';

const unet = readUnetConfig('unet/config.json', SD15_UNET);
const vae = readVaeConfig('vae/config.json', SD15_VAE);
const MiB = 2 ** 20;

describe('largestTensor', () => {
  it('SD 1.5 at 512×512 with guidance: the UNet’s first self-attention scores', () => {
    // batch 2 × 8 heads × 4096 × 4096 tokens
    expect(
      largestTensor({ unet, vae, precision: 'float16' }, { width: 512, height: 512, unetBatch: 2, encodes: false }),
    ).toEqual({
      what: "the UNet's attention scores at 64×64 latents",
      bytes: 2 * 8 * 4096 * 4096 * 2,
    });
    expect(
      largestTensor({ unet, vae, precision: 'float32' }, { width: 512, height: 512, unetBatch: 2, encodes: false })
        .bytes,
    ).toBe(2 * 8 * 4096 * 4096 * 4);
  });

  it('upcast_attention keeps the scores float32 in a float16 graph', () => {
    const upcast = { ...unet, upcastAttention: true };
    const q = { width: 512, height: 512, unetBatch: 1, encodes: false };
    expect(largestTensor({ unet: upcast, vae, precision: 'float16' }, q).bytes).toBe(8 * 4096 * 4096 * 4);
  });

  it('without attention at full size, the VAE decoder’s 256 channels at 512×512 are the largest', () => {
    const small = { ...unet, down: unet.down.map(() => 'DownBlock2D' as const), midBlock: false };
    const q = { width: 512, height: 512, unetBatch: 2, encodes: true };
    expect(largestTensor({ unet: small, vae, precision: 'float16' }, q)).toEqual({
      what: "the VAE decoder's activations at 512×512",
      bytes: 256 * 512 * 512 * 4,
    });
  });

  it('bindingCheck passes what fits and names what does not', () => {
    const check = bindingCheck({ unet, vae, precision: 'float16' }, 2048 * MiB);
    expect(() => check({ width: 512, height: 512, unetBatch: 2, encodes: false })).not.toThrow();
    expect(() => check({ width: 768, height: 768, unetBatch: 2, encodes: false })).toThrow(ValidationError);
    expect(() => check({ width: 768, height: 768, unetBatch: 2, encodes: false })).toThrow(
      /At 768×768, the UNet's attention scores at 96×96 latents would be one 2\.5 GiB tensor, more than this GPU binds at once \(2\.0 GiB/,
    );
  });
});

describe('a VAE round trip (no UNet)', () => {
  it('is sized by the VAE alone', () => {
    const q = { width: 512, height: 512, unetBatch: 0, encodes: true };
    expect(largestTensor({ unet, vae, precision: 'float16' }, q)).toEqual({
      what: "the VAE decoder's activations at 512×512",
      bytes: 256 * 512 * 512 * 4,
    });
  });
});
