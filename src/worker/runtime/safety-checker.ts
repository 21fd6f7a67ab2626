/** The safety checker over an ONNX Runtime session: CLIP's preprocessing, the vision tower, the decision. */
import type { InferenceSession } from 'onnxruntime-common';
import type { SafetyChecker } from '../../core/safety/checker';
import { clipPixelValues, type ClipImageConfig } from '../../core/safety/clip-image';
import { safetyVerdict, type SafetyConcepts } from '../../core/safety/verdict';
import { findInput, floatInput, inputSpecs, pickOutput, readOutput, type OrtModule } from './ort-io';

export function createSafetyChecker(
  ort: OrtModule,
  session: InferenceSession,
  preprocessing: ClipImageConfig,
  concepts: SafetyConcepts,
  { source, required }: Pick<SafetyChecker, 'source' | 'required'>,
): SafetyChecker {
  const pixelSpec = findInput(inputSpecs(session), 'safety checker', ['pixel_values']);
  const out = pickOutput(session, 'safety checker', ['image_embeds']);
  return {
    source,
    required,
    async check(image) {
      const { data, height, width } = clipPixelValues(image, preprocessing);
      const result = await session.run({ [pixelSpec.name]: floatInput(ort, pixelSpec, data, [1, 3, height, width]) });
      const embeds = await readOutput(result[out]!);
      return safetyVerdict(embeds.data, concepts);
    },
  };
}
