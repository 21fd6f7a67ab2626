/**
 * The core's ControlNetModel over an ONNX Runtime session of the graph core/networks/controlnet.ts
 * builds: the same code on onnxruntime-web (worker) and onnxruntime-node (tests).
 */
import type { InferenceSession } from 'onnxruntime-common';
import { controlOutputNames } from '../../core/networks/controlnet';
import type { ControlNetConfig } from '../../core/networks/config';
import { skipCount } from '../../core/networks/unet';
import type { ControlNetModel } from '../../core/pipeline/control';
import { findInput, floatInput, inputSpecs, readOutput, timestepTensor, type OrtModule } from './ort-io';

export function createControlNetModel(
  ort: OrtModule,
  session: InferenceSession,
  config: ControlNetConfig,
): ControlNetModel {
  const specs = inputSpecs(session);
  const spec = (name: string) => findInput(specs, 'ControlNet', [name]);
  const sample = spec('sample');
  const timestep = spec('timestep');
  const text = spec('encoder_hidden_states');
  const cond = spec('controlnet_cond');
  const scales = spec('conditioning_scales');
  const skips = skipCount(config.unet);
  const names = controlOutputNames(skips);
  return {
    skips,
    globalPool: config.globalPool,
    async run(x, t, hidden, image, factors) {
      const out = await session.run({
        [sample.name]: floatInput(ort, sample, x.data, x.dims),
        [timestep.name]: timestepTensor(ort, timestep, t),
        [text.name]: floatInput(ort, text, hidden.data, hidden.dims),
        [cond.name]: floatInput(ort, cond, image.data, image.dims),
        [scales.name]: floatInput(ort, scales, factors, [factors.length]),
      });
      const down = await Promise.all(names.down.map((n) => readOutput(out[n]!)));
      return { down, mid: await readOutput(out[names.mid]!) };
    },
  };
}
