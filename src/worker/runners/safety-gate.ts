/**
 * Every picture a run makes passes the model's safety checker before it leaves the worker, when
 * the model has one and the run did not turn it off (the site may require it: then it always runs).
 * A flagged picture leaves without its pixels, so the page has nothing to draw, keep or download.
 */
import type { RgbaImage } from '../../core/image/rgba';
import type { SafetyChecker } from '../../core/safety/checker';
import type { SafetyReport } from '../../protocol/messages';
import type { LoadedModel } from '../loaded-model';

export function activeChecker(model: LoadedModel, wanted: boolean): SafetyChecker | null {
  const checker = model.safety;
  return checker && (wanted || checker.required) ? checker : null;
}

/** The picture as it may leave the worker, and the checker's report when it ran. */
export async function passGate(
  image: RgbaImage,
  checker: SafetyChecker | null,
): Promise<{ pixels: ArrayBuffer; safety?: SafetyReport }> {
  const pixels = image.pixels.buffer as ArrayBuffer;
  if (!checker) return { pixels };
  const verdict = await checker.check(image);
  const safety: SafetyReport = {
    flagged: verdict.flagged,
    source: checker.source,
    badConcepts: verdict.badConcepts,
    specialCare: verdict.specialCare,
    concepts: verdict.conceptScores.length,
  };
  return { pixels: verdict.flagged ? new ArrayBuffer(0) : pixels, safety };
}
