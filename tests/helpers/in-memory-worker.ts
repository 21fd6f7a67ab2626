/**
 * The worker in memory, for Node tests of the page's side: a Worker stand-in that clones messages
 * as postMessage does, and one that runs the real handler with fake models.
 */
import { createHandler } from '../../src/worker/handler/handler';
import type { LoadedModel } from '../../src/worker/loaded-model';
import type { LoadModelParams } from '../../src/protocol/messages';
import type { FromWorker } from '../../src/protocol/wire';
import { NO_GPU } from './fake-models';

/**
 * A Worker stand-in: messages to it go to `onMessage`; `reply` sends one back to the page. Both
 * ways they are structured-cloned with their transfer lists, as postMessage does, so a buffer
 * that was transferred is detached on the sending side.
 */
export class FakeWorker extends EventTarget {
  onMessage: (message: unknown) => void = () => undefined;
  terminated = false;
  /** Bytes that crossed by transfer, each way. */
  transferredIn = 0;
  transferredOut = 0;
  postMessage(message: unknown, transfer: Transferable[] = []): void {
    if (this.terminated) return;
    this.transferredIn += byteCount(transfer);
    const copy: unknown = structuredClone(message, { transfer });
    queueMicrotask(() => this.onMessage(copy));
  }
  reply(message: FromWorker, transfer: ArrayBuffer[] = []): void {
    if (this.terminated) return;
    this.transferredOut += byteCount(transfer);
    const copy: unknown = structuredClone(message, { transfer });
    this.dispatchEvent(new MessageEvent('message', { data: copy }));
  }
  /** What a worker whose script threw does: an error event, and no more answers. */
  fail(message: string): void {
    const event = new Event('error', { cancelable: true });
    Object.assign(event, { message });
    this.dispatchEvent(event);
  }
  terminate(): void {
    this.terminated = true;
  }
}

const byteCount = (transfer: Transferable[]): number =>
  transfer.reduce<number>((sum, t) => sum + (t instanceof ArrayBuffer ? t.byteLength : 0), 0);

export function handlerWorker(
  load: (params: LoadModelParams) => Promise<LoadedModel> = () => new Promise(() => undefined),
): FakeWorker {
  const worker = new FakeWorker();
  const handle = createHandler({
    post: (message, transfer) => setTimeout(() => worker.reply(message, transfer), 0),
    capabilities: async () => NO_GPU,
    loadModel: (params) => load(params),
    yieldToEvents: () => new Promise((resolve) => setTimeout(resolve, 0)),
    estimateDepth: async () => ({ width: 1, height: 1, data: new Float32Array(1) }),
  });
  worker.onMessage = handle;
  return worker;
}
