/**
 * The worker's dispatch: a message arrives as `unknown`, its params are parsed by its kind's row,
 * the job waits its turn in the queue, the kind's runner runs, and the result, progress or error
 * goes back. Worker globals and ONNX Runtime come in through `env`, so Node tests drive it with
 * fake or onnxruntime-node models.
 */
import { CancelledError, serializeError, ValidationError } from '../../core/errors';
import { isRecord, type JsonObject } from '../../core/json';
import type { ParsedOf, RowTable } from '../../protocol/request-row';
import { progressTransfers, type FromWorker } from '../../protocol/wire';
import { productKinds } from '../runners';
import type { WorkerEnv } from './env';
import { deviceLostError, explain } from './explain';
import { JobQueue, type Job } from './job-queue';
import type { KindTable, RunContext } from './kinds';
import { ModelSlot } from './model-slot';
import { withYields } from './yields';

export interface HandlerDeps extends WorkerEnv {
  post(message: FromWorker, transfer: ArrayBuffer[]): void;
}

/** More kinds than the product's (the benchmark's and tests'), made once the handler has its model slot. */
export type ExtraKinds<T extends RowTable> = (slot: ModelSlot) => KindTable<T>;

/** A parsed request, ready to run: everything the handler needs of its kind, with the types checked once. */
interface Prepared {
  run(ctx: RunContext): Promise<unknown>;
  /** The buffers the result transfers. */
  returns(result: unknown): ArrayBuffer[];
  deviceFree: boolean;
  urgent: boolean;
}

/** A table as the handler asks it: whether it has a kind, and the prepared request for one it has. */
interface Preparer {
  has(kind: string): boolean;
  prepare(kind: string, params: JsonObject): Prepared | null;
}

function preparer<T extends RowTable>(table: KindTable<T>): Preparer {
  const has = (kind: string): kind is keyof T & string => Object.prototype.hasOwnProperty.call(table.rows, kind);
  const prepare = (kind: string, params: JsonObject): Prepared | null => {
    if (!has(kind)) return null;
    const row = table.rows[kind];
    const runner = table.runners[kind];
    if (!row || !runner) return null;
    // The row's parser makes exactly what its kind's runner takes, and the runner's result is what
    // the row's `returns` reads: TypeScript cannot follow one generic kind through both tables.
    const parsed = row.parse(params) as ParsedOf<T[keyof T & string]>;
    const urgent = table.urgent?.[kind];
    return {
      run: (ctx) => runner(parsed, ctx),
      returns: (result) => row.returns(result as never),
      deviceFree: table.deviceFree?.includes(kind) ?? false,
      urgent: urgent?.(parsed) ?? false,
    };
  };
  return { has, prepare };
}

export function createHandler<D extends RowTable>(
  deps: HandlerDeps,
  extra?: ExtraKinds<D>,
): (message: unknown) => void {
  const queue = new JobQueue();
  const yieldNow = deps.yieldToEvents;
  const slot = new ModelSlot((models) =>
    yieldNow ? withYields(models, yieldNow, () => queue.current?.controller.signal.aborted ?? false) : models,
  );
  const tables: Preparer[] = [preparer(productKinds(slot, deps)), ...(extra ? [preparer(extra(slot))] : [])];
  void deps.device?.whenLost().then(() => queue.abortAll());

  const post = (message: FromWorker, transfer: ArrayBuffer[] = []): void => deps.post(message, transfer);
  const fail = (id: number, error: unknown): void => post({ type: 'error', id, error: serializeError(error) });

  async function runJob(kind: string, request: Prepared, job: Job): Promise<void> {
    const { signal } = job.controller;
    const ctx: RunContext = {
      signal,
      onProgress: (progress) => post({ type: 'progress', id: job.id, progress }, progressTransfers(progress)),
    };
    try {
      if (signal.aborted) throw new CancelledError();
      const lostBefore = deps.device?.lostReason() ?? null;
      if (lostBefore && !request.deviceFree) throw deviceLostError(lostBefore);
      // A run stuck on a dead device never returns: losing the device aborts it (see the queue).
      const aborted = new Promise<never>((_, reject) =>
        signal.addEventListener('abort', () => {
          const reason = deps.device?.lostReason();
          if (reason) reject(deviceLostError(reason));
        }),
      );
      aborted.catch(() => undefined);
      const running = request.run(ctx);
      const result = await (request.deviceFree ? running : Promise.race([running, aborted]));
      // The envelope is built for any kind: the result is the one this kind's runner resolved to.
      post({ type: 'result', id: job.id, kind, result } as FromWorker, request.returns(result));
    } catch (error) {
      fail(job.id, explain(error, deps.device?.lostReason() ?? null, slot.current?.result.adapter ?? null));
    }
  }

  return (message: unknown): void => {
    const id =
      isRecord(message) && typeof message['id'] === 'number' && Number.isFinite(message['id']) ? message['id'] : -1;
    try {
      if (!isRecord(message)) throw new ValidationError('A message must be an object.');
      if (message['type'] === 'cancel') {
        queue.cancel(id);
        return;
      }
      if (message['type'] === 'ping') {
        post({ type: 'pong', id });
        return;
      }
      if (message['type'] !== 'request')
        throw new ValidationError(`Unknown message type "${String(message['type'])}".`);
      if (id < 0) throw new ValidationError('A request needs a numeric id.');
      const kind = message['kind'];
      const params = message['params'];
      const table = typeof kind === 'string' ? tables.find((t) => t.has(kind)) : undefined;
      if (typeof kind !== 'string' || !table) throw new ValidationError(`Unknown request kind "${String(kind)}".`);
      if (!isRecord(params)) throw new ValidationError(`The ${kind} request needs a params object.`);
      const request = table.prepare(kind, params);
      if (!request) throw new ValidationError(`Unknown request kind "${kind}".`);
      // An urgent request acts at once, not after the queued jobs: a worker that dies mid-run.
      if (request.urgent) {
        void runJob(kind, request, { id, controller: new AbortController() });
        return;
      }
      queue.add(id, (job) => runJob(kind, request, job));
    } catch (error) {
      fail(id, error);
    }
  };
}
