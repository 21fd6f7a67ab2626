/**
 * onnxruntime-web in Node on Dawn's WebGPU (or its WASM backend): the device opened as the worker
 * opens it (the adapter's own buffer limits, shader-f16 when offered) and handed to ORT.
 */
import type { InferenceSession } from 'onnxruntime-common';
import * as ortWebGpu from 'onnxruntime-web/webgpu';
import { describeAdapter } from '../../src/worker/runtime/capabilities';
import type { AdapterInfo } from '../../src/protocol/messages';
import { installWebGpu } from './dawn';

export type OrtWeb = typeof ortWebGpu;

export interface NodeGpu {
  ort: OrtWeb;
  device: GPUDevice;
  adapter: AdapterInfo;
  /** A session on WebGPU from a graph and its external data (and any further options). */
  session: (
    model: Uint8Array,
    externalData: { path: string; data: Uint8Array }[],
    extra?: InferenceSession.SessionOptions,
  ) => Promise<InferenceSession>;
}

export async function openNodeGpu(options: { icd?: string } = {}): Promise<NodeGpu> {
  const gpu = installWebGpu(options);
  const adapter = await gpu.requestAdapter();
  if (!adapter) {
    throw new Error(
      'Dawn found no WebGPU adapter (is a Vulkan driver installed? Here: Mesa lavapipe, `mesa-vulkan-drivers` from bookworm-backports).',
    );
  }
  const device = await adapter.requestDevice({
    requiredFeatures: adapter.features.has('shader-f16') ? ['shader-f16'] : [],
    requiredLimits: {
      maxBufferSize: adapter.limits.maxBufferSize,
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    },
  });
  ortWebGpu.env.wasm.numThreads = 1;
  ortWebGpu.env.logLevel = 'error';
  ortWebGpu.env.webgpu.device = device;
  return {
    ort: ortWebGpu,
    device,
    adapter: describeAdapter(adapter),
    session: (model, externalData, extra = {}) =>
      ortWebGpu.InferenceSession.create(model, {
        ...extra,
        executionProviders: ['webgpu'],
        graphOptimizationLevel: 'all',
        // Shape arithmetic placed on the CPU is expected; ORT would warn about it on every session.
        logSeverityLevel: 3,
        ...(externalData.length ? { externalData } : {}),
      }),
  };
}
