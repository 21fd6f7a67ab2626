/**
 * The product's runners: one per request kind of protocol/requests.ts, each taking that kind's
 * parsed params. They share the one model slot; the handler gives them their job's signal and
 * progress channel.
 */
import type { RequestRows } from '../../protocol/requests';
import type { WorkerEnv } from '../handler/env';
import type { KindTable } from '../handler/kinds';
import type { ModelSlot } from '../handler/model-slot';
import { compareRunner } from './compare';
import { estimateDepthRunner } from './estimate-depth';
import { tokenizeRunner, vaeRoundTripRunner } from './explore';
import { generateRunner } from './generate';
import { controlPreviewRunner, loadControlNetRunner } from './controlnet';
import { ControlNetSlot } from '../handler/controlnet-slot';
import { REQUESTS } from '../../protocol/requests';

export function productKinds(slot: ModelSlot, env: WorkerEnv): KindTable<RequestRows> {
  const nets = new ControlNetSlot();
  return {
    rows: REQUESTS,
    runners: {
      capabilities: () => env.capabilities(),
      loadModel: async (params, { signal, onProgress }) =>
        (await slot.load(() => env.loadModel(params, onProgress, signal), params.depthEstimator ?? null)).result,
      addLora: ({ name, header, bytes }) => {
        slot.addFile({ name, header, bytes });
        return Promise.resolve({ name, tensors: header.tensors.size });
      },
      generate: generateRunner(slot, env, nets),
      loadControlNet: loadControlNetRunner(slot, nets),
      controlPreview: controlPreviewRunner(slot, env),
      removeControlNet: async ({ id }) => ({ removed: await nets.remove(id) }),
      compare: compareRunner(slot),
      tokenize: tokenizeRunner(slot),
      vaeRoundTrip: vaeRoundTripRunner(slot),
      estimateDepth: estimateDepthRunner(slot, env),
    },
    deviceFree: ['capabilities'],
  };
}
