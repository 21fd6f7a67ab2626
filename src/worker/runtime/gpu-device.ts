/**
 * The worker's one GPU: the adapter, asked for once; the device ONNX Runtime runs on, made once
 * with the adapter's own buffer limits and shader-f16; and whether it was lost. ORT cannot switch
 * devices, so after a loss the page starts a fresh worker (and with it a fresh GpuDevice).
 */
import type { DeviceState } from '../handler/env';

export class GpuDevice implements DeviceState {
  private adapterAsked: Promise<GPUAdapter | null> | null = null;
  private opened: Promise<GPUDevice> | null = null;
  private device: GPUDevice | null = null;
  private lost: string | null = null;
  private announceLost: ((reason: string) => void) | null = null;
  private readonly lostPromise = new Promise<string>((resolve) => (this.announceLost = resolve));

  /** The browser's GPU adapter, or null where WebGPU is missing or grants none. */
  adapter(): Promise<GPUAdapter | null> {
    if (!('gpu' in navigator) || !navigator.gpu) return Promise.resolve(null);
    this.adapterAsked ??= navigator.gpu.requestAdapter().catch(() => null);
    return this.adapterAsked;
  }

  /**
   * The device, with the adapter's own maxBufferSize and maxStorageBufferBindingSize (WebGPU's
   * defaults, 256/128 MiB, are the usual cause of failed sessions and black images) and
   * shader-f16 when the adapter has it.
   */
  open(adapter: GPUAdapter): Promise<GPUDevice> {
    this.opened ??= (async () => {
      const device = await adapter.requestDevice({
        requiredFeatures: adapter.features.has('shader-f16') ? ['shader-f16'] : [],
        requiredLimits: {
          maxBufferSize: adapter.limits.maxBufferSize,
          maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
        },
      });
      void device.lost.then((info) => {
        this.lost = info.message || (info.reason === 'destroyed' ? 'the device was destroyed' : 'unknown reason');
        this.announceLost?.(this.lost);
      });
      this.device = device;
      return device;
    })();
    return this.opened;
  }

  get isOpen(): boolean {
    return this.device !== null;
  }

  lostReason(): string | null {
    return this.lost;
  }

  whenLost(): Promise<string> {
    return this.lostPromise;
  }

  /** Destroys the device as a driver reset would (the reliability tests' fault). */
  async lose(): Promise<boolean> {
    if (!this.device) return false;
    this.device.destroy();
    await this.device.lost;
    return true;
  }
}
