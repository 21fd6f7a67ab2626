/**
 * Which safety checker a load plans (the model's own, the site's, none), and the plan crossing the
 * worker boundary with it and with the hosts whose redirects are followed.
 */
import { describe, expect, it } from 'vitest';
import { manifestFromModelIndex } from '../../../src/models/model-index';
import { parseModelInput } from '../../../src/models/model-input';
import { planLoad } from '../../../src/models/plan-load';
import { plannedChecker, siteCheckerFiles, siteRequiresSafetyChecker } from '../../../src/models/safety-checker';
import { parseHubListing } from '../../../src/models/hub-listing';
import { parseLoadPlan } from '../../../src/protocol/parse-plan';
import { TINY_MODEL } from '../../../src/models/catalog';
import { readFixtureJson } from '../../helpers/fixtures';

const source = parseModelInput('http://127.0.0.1:4181/sd1-safety');
const withChecker = manifestFromModelIndex('url:x', source, readFixtureJson('safety/sd1-safety/model_index.json'));
const without = manifestFromModelIndex('url:y', source, readFixtureJson('networks/sd1/model_index.json'));

describe('the safety checker a load takes', () => {
  it("is the model's own where its model_index.json names one, on unless turned off; the site's where required", () => {
    expect(withChecker.safetyChecker).toEqual({
      part: {
        config: 'safety_checker/config.json',
        weights: ['safety_checker/model.safetensors', 'safety_checker/model.fp16.safetensors'],
      },
      preprocessor: 'feature_extractor/preprocessor_config.json',
    });
    expect(without.safetyChecker).toBeUndefined();
    expect(plannedChecker(withChecker, true, false)).toBe('model');
    expect(plannedChecker(withChecker, false, false)).toBeNull();
    expect(plannedChecker(withChecker, false, true)).toBe('model');
    expect(plannedChecker(without, true, false)).toBeNull();
    expect(plannedChecker(without, false, true)).toBe('site');
    expect(plannedChecker(TINY_MODEL, true, true)).toBe('site');
  });

  it("plans the site's checker from the hub (float32 converted to fp16 as it downloads), through the worker's parse", () => {
    const listing = parseHubListing({
      sha: 'abc',
      siblings: [
        { rfilename: 'config.json', size: 4000 },
        { rfilename: 'preprocessor_config.json', size: 500 },
        { rfilename: 'model.safetensors', size: 1_216_000_000, lfs: { sha256: 'a'.repeat(64), size: 1_216_000_000 } },
      ],
    });
    const files = siteCheckerFiles(listing);
    expect(files.bytes).toBe(608_000_000);
    const plan = planLoad(TINY_MODEL, 'https://huggingface.co', 'http://127.0.0.1:4173', { checker: 'site', files });
    const parsed = parseLoadPlan(JSON.parse(JSON.stringify(plan)));
    expect(parsed.safetyChecker).toEqual({
      part: {
        config: {
          url: 'https://huggingface.co/CompVis/stable-diffusion-safety-checker/resolve/main/config.json',
          path: 'CompVis/stable-diffusion-safety-checker/config.json',
        },
        weights: [
          {
            url: 'https://huggingface.co/CompVis/stable-diffusion-safety-checker/resolve/main/model.safetensors',
            path: 'CompVis/stable-diffusion-safety-checker/model.safetensors',
            convert: 'fp16',
          },
        ],
      },
      preprocessor: {
        url: 'https://huggingface.co/CompVis/stable-diffusion-safety-checker/resolve/main/preprocessor_config.json',
        path: 'CompVis/stable-diffusion-safety-checker/preprocessor_config.json',
      },
      source: 'site',
    });
    // Only the hub's redirects (to its CDNs) are followed.
    expect(parsed.redirectHosts).toEqual(['https://huggingface.co', 'https://*.huggingface.co', 'https://*.hf.co']);
  });

  it("keeps the model's checker in a folder URL's plan, and the site's setting reads only 'true'", () => {
    const plan = parseLoadPlan(
      JSON.parse(JSON.stringify(planLoad(withChecker, 'https://huggingface.co', 'http://a', { checker: 'model' }))),
    );
    expect(plan.safetyChecker?.part.weights[0]?.url).toBe(
      'http://127.0.0.1:4181/sd1-safety/safety_checker/model.safetensors',
    );
    expect(plan.safetyChecker?.source).toBe('model');
    expect(planLoad(withChecker, 'https://huggingface.co', 'http://a').safetyChecker).toBeUndefined();
    expect([
      siteRequiresSafetyChecker('true'),
      siteRequiresSafetyChecker(' TRUE '),
      siteRequiresSafetyChecker('false'),
    ]).toEqual([true, true, false]);
    expect(siteRequiresSafetyChecker(null)).toBe(false);
  });
});
