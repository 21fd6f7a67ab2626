/**
 * Which safety checker a load takes: the checkpoint's own (on unless the person turned it off for
 * that model), or, where the site requires one, SD 1.5's checker beside a model that has none.
 */
import type { RepoListing } from './hub-listing';
import type { ModelManifest, SafetyCheckerFiles } from './manifest';

/** The checker SD 1.5 ships, on the hub as its own repo: what a site that requires one adds. */
export const SITE_SAFETY_CHECKER = {
  repo: 'CompVis/stable-diffusion-safety-checker',
  revision: 'main',
  name: "Stable Diffusion's safety checker (CompVis/stable-diffusion-safety-checker)",
  /** Its weights in fp16, as the app keeps them (the repo's float32 file is converted as it downloads). */
  approxBytes: 608_000_000,
};

/** Its files: from the repo's listing when there is one (fp16 preferred), else the float32 file by name. */
export function siteCheckerFiles(listing: RepoListing | null): SafetyCheckerFiles {
  const has = (path: string) => listing?.files.has(path) === true;
  const fp16 = has('model.fp16.safetensors');
  const weights = fp16 ? 'model.fp16.safetensors' : 'model.safetensors';
  const size = listing?.files.get(weights)?.size;
  return {
    part: { config: 'config.json', weights: [weights], ...(listing && !fp16 ? { convert: true } : {}) },
    preprocessor: 'preprocessor_config.json',
    ...(size !== undefined ? { bytes: fp16 ? size : Math.round(size / 2) } : {}),
  };
}

/** The checker a load plans for: 'model', 'site' or none. */
export function plannedChecker(
  manifest: Pick<ModelManifest, 'safetyChecker'>,
  wanted: boolean,
  required: boolean,
): 'model' | 'site' | null {
  if (manifest.safetyChecker && (wanted || required)) return 'model';
  return required ? 'site' : null;
}

/** The site's own setting, in its page (see README: VITE_REQUIRE_SAFETY_CHECKER at build time). */
export const SITE_POLICY_META = 'latent-studio:require-safety-checker';

export function siteRequiresSafetyChecker(content: string | null | undefined): boolean {
  return content?.trim().toLowerCase() === 'true';
}
