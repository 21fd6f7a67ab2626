/**
 * Resident memory for the WebGPU loop: GPU buffers on ORT's own device, wrapped as ORT tensors,
 * written from the CPU (uploads are cheap and do not stall the GPU; reads back would).
 */
import type { Tensor as OrtTensor } from 'onnxruntime-common';
import type { ResidentMemory } from './linear-loop';
import { ort } from './ort-env';

export function gpuMemory(device: GPUDevice): ResidentMemory {
  const buffers = new Map<OrtTensor, GPUBuffer>();
  // writeBuffer moves whole 4-byte words: an odd count of float16 values gets one padding value.
  const words = (data: Float32Array | Uint16Array): Float32Array | Uint16Array =>
    data.byteLength % 4 === 0 ? data : Uint16Array.from({ length: data.length + 1 }, (_, i) => data[i] ?? 0);
  const write = (buffer: GPUBuffer, data: Float32Array | Uint16Array): void =>
    device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  return {
    upload(data, type, dims) {
      const padded = words(data);
      const buffer = device.createBuffer({
        size: Math.max(16, Math.ceil(padded.byteLength / 16) * 16),
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
      write(buffer, padded);
      const t = ort.Tensor.fromGpuBuffer(buffer, { dataType: type, dims });
      buffers.set(t, buffer);
      return t;
    },
    write(target, data) {
      const buffer = buffers.get(target);
      if (!buffer) throw new Error('write() takes a tensor made by upload().');
      write(buffer, words(data));
    },
    settled: () => device.queue.onSubmittedWorkDone(),
    release() {
      for (const [t, buffer] of buffers) {
        t.dispose();
        buffer.destroy();
      }
      buffers.clear();
    },
  };
}
