/**
 * WebGPU in Node through Dawn (the npm package `webgpu`, its binary inside the package), installed
 * as the browser's `navigator.gpu` so onnxruntime-web's WebGPU EP runs unchanged: the fp16 test
 * bed (with Mesa's lavapipe on a machine without a GPU), `npm run generate` and `npm run bench:gpu`.
 */
import { existsSync } from 'node:fs';
import { create, globals } from 'webgpu';

/** Mesa's software Vulkan driver (Debian bookworm-backports' mesa-vulkan-drivers 25.x has shader-f16). */
export const LAVAPIPE_ICD = '/usr/share/vulkan/icd.d/lvp_icd.json';

/** Whether lavapipe is installed here (what the test bed needs beside npm's packages). */
export function hasLavapipe(): boolean {
  return existsSync(LAVAPIPE_ICD);
}

interface WriteBuffer {
  writeBuffer: (
    this: GPUQueue,
    buffer: GPUBuffer,
    offset: number,
    data: BufferSource,
    dataOffset?: number,
    size?: number,
  ) => void;
}

let installed: GPU | null = null;

/**
 * Makes `navigator.gpu` Dawn's. `icd` pins the Vulkan driver (lavapipe for the test bed); without
 * it the system's drivers are used. Call before the first adapter is asked for.
 */
export function installWebGpu(options: { icd?: string } = {}): GPU {
  if (installed) return installed;
  if (options.icd) process.env['VK_ICD_FILENAMES'] = options.icd;
  Object.assign(globalThis, globals);
  // Dawn's binding rejects queue.writeBuffer from a view of a SharedArrayBuffer (ORT's threaded
  // WASM memory) with "Invalid argument"; such views are copied first.
  const queue = (globals as { GPUQueue: { prototype: WriteBuffer } }).GPUQueue.prototype;
  const write = queue.writeBuffer;
  queue.writeBuffer = function (this: GPUQueue, buffer, offset, data, dataOffset, size) {
    const shared = ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer;
    const plain = shared ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice() : data;
    // A copied view is bytes: offsets given in elements of the original view become byte offsets.
    const unit =
      shared && 'BYTES_PER_ELEMENT' in data ? (data as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT : 1;
    return write.call(
      this,
      buffer,
      offset,
      plain,
      dataOffset === undefined ? undefined : dataOffset * unit,
      size === undefined ? undefined : size * unit,
    );
  };
  const gpu = create([]);
  const nav = (globalThis as { navigator?: object }).navigator;
  if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu, hardwareConcurrency: 2 }, configurable: true });
  installed = gpu;
  return gpu;
}
