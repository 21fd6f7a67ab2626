/** Runtime failures in words a person can act on; the app's own errors pass through as they are. */
import { CancelledError, DeviceLostError, LatentStudioError, ModelError } from '../../core/errors';
import type { AdapterInfo } from '../../protocol/messages';

export function deviceLostError(reason: string): DeviceLostError {
  return new DeviceLostError(
    `The GPU device was lost (${reason.replace(/\.$/, '')}). The app restarts its GPU runtime and reloads the model: press Generate again.`,
  );
}

const OUT_OF_MEMORY =
  /out of memory|\bOOM\b|failed to allocate|allocation fail|bad_alloc|maxBufferSize|maxStorageBufferBindingSize|exceeds? the max/i;

/**
 * `lost`: why the GPU device was lost, or null while it is fine. `adapter`: the loaded model's GPU,
 * whose buffer limits an out-of-memory message names.
 */
export function explain(error: unknown, lost: string | null, adapter: AdapterInfo | null): unknown {
  if (lost && !(error instanceof CancelledError)) return deviceLostError(lost);
  if (error instanceof LatentStudioError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (!OUT_OF_MEMORY.test(message)) return error;
  const limit = adapter
    ? ` This GPU allows ${Math.round(adapter.maxStorageBufferBindingSize / 2 ** 20)} MiB per buffer (maxStorageBufferBindingSize) and ${Math.round(adapter.maxBufferSize / 2 ** 20)} MiB in all per buffer (maxBufferSize).`
    : '';
  return new ModelError(
    `The model ran out of memory: ${message}.${limit} Try a smaller size, an fp16 model, or close other GPU-heavy tabs.`,
  );
}
