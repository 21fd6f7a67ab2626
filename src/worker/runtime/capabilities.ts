/** What this browser's GPU offers, as the page is told it. */
import type { AdapterInfo, Capabilities } from '../../protocol/messages';
import type { GpuDevice } from './gpu-device';

export function describeAdapter(adapter: GPUAdapter): AdapterInfo {
  const info = adapter.info;
  const software =
    (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter === true ||
    /swiftshader|llvmpipe|software/i.test(`${info.vendor} ${info.architecture} ${info.description}`);
  return {
    software,
    vendor: info.vendor || 'unknown',
    architecture: info.architecture || 'unknown',
    description: info.description || '',
    shaderF16: adapter.features.has('shader-f16'),
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
  };
}

/** WASM threads the page can share memory with (cross-origin isolated), at most 4. */
export function wasmThreads(): number {
  return globalThis.crossOriginIsolated === true ? Math.min(navigator.hardwareConcurrency || 1, 4) : 1;
}

export async function detectCapabilities(gpu: GpuDevice): Promise<Capabilities> {
  const base = { crossOriginIsolated: globalThis.crossOriginIsolated === true, wasmThreads: wasmThreads() };
  if (!('gpu' in navigator) || !navigator.gpu) {
    return {
      ...base,
      webgpu: false,
      webgpuUnavailableReason: 'This browser does not expose WebGPU (navigator.gpu is missing).',
      adapter: null,
    };
  }
  const adapter = await gpu.adapter();
  if (!adapter) {
    return {
      ...base,
      webgpu: false,
      webgpuUnavailableReason: 'WebGPU is present but no GPU adapter was granted.',
      adapter: null,
    };
  }
  return { ...base, webgpu: true, webgpuUnavailableReason: null, adapter: describeAdapter(adapter) };
}
