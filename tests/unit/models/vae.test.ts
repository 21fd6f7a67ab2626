/** The VAE a model decodes with: which fit which model, and what the worker is asked to load. */
import { describe, expect, it } from 'vitest';
import { findModel } from '../../../src/models/catalog';
import { findVae, planVae, VAE_CATALOG, vaeFromFile, vaeFromInput, vaeMisfit } from '../../../src/models/vae';
import { parseLoadPlan } from '../../../src/protocol/parse-plan';
import { planLoad } from '../../../src/models/plan-load';

const model = (id: string) => findModel(id, [])!;

describe('VAE choice', () => {
  const fix = VAE_CATALOG[0]!;

  it('the catalog’s SDXL VAE fits SDXL models, not SD 1.x or ONNX exports, and says why', () => {
    expect(fix.source).toEqual({ kind: 'hub', repo: 'madebyollin/sdxl-vae-fp16-fix', revision: 'main' });
    expect(vaeMisfit(fix, model('sdxl-base'))).toBeNull();
    expect(vaeMisfit(fix, model('sdxl-turbo'))).toBeNull();
    expect(vaeMisfit(fix, model('sd15'))).toMatch(
      /is a VAE for SDXL; Stable Diffusion 1\.5 is Stable Diffusion 1\.x\/2\.x/,
    );
    expect(vaeMisfit(fix, model('sd-turbo'))).toMatch(/ONNX export/);
  });

  it('a VAE added by repo id, URL or file: its family told by its files', () => {
    expect(vaeFromInput('someone/my-vae')).toMatchObject({ id: 'vae:someone/my-vae@main', family: null });
    expect(vaeFromInput('https://example.com/vae')).toMatchObject({ id: 'vae:https://example.com/vae/' });
    expect(() => vaeFromInput('not a repo')).toThrow(/repo id/);
    expect(() => vaeFromFile(new Blob([]), 'vae.pt', '1')).toThrow(/not a \.safetensors file/);
    const file = vaeFromFile(new Blob([]), 'sdxl_vae.safetensors', '7');
    expect(findVae(file.id, [file])).toBe(file);
    expect(findVae(null, [file])).toBeNull();
  });

  it('plans a folder’s config and weights (fp16 first) or the picked file, and the plan survives the worker’s parse', () => {
    const plan = planVae(fix, 'https://hub.example');
    expect(plan.source.format === 'folder' && plan.source.part.weights.map((w) => w.url)).toEqual([
      'https://hub.example/madebyollin/sdxl-vae-fp16-fix/resolve/main/diffusion_pytorch_model.fp16.safetensors',
      'https://hub.example/madebyollin/sdxl-vae-fp16-fix/resolve/main/diffusion_pytorch_model.safetensors',
    ]);
    const load = { ...planLoad(model('sdxl-base'), 'https://hub.example', 'https://app.example'), vae: plan };
    expect(parseLoadPlan(load).vae).toEqual(plan);
    const blob = new Blob([new Uint8Array(4)]);
    const picked = planVae(vaeFromFile(blob, 'v.safetensors', '1'), 'https://hub.example');
    expect(parseLoadPlan({ ...load, vae: picked }).vae).toEqual(picked);
    expect(() => parseLoadPlan({ ...load, vae: { id: 'x', name: 'x', source: { format: 'zip' } } })).toThrow(
      /neither a folder nor a picked file/,
    );
  });
});
