/**
 * The page's side of the worker protocol: request(kind, params, {signal, onProgress}) → result,
 * typed by a table of request rows (protocol/request-row.ts). It notices a crashed or silent
 * worker, fails what was pending with a clear error and starts a new one.
 */
import { LatentStudioError, type SerializedError } from '../core/errors';
import type { Progress } from '../protocol/messages';
import type { RowsFor } from '../protocol/request-row';
import { REQUESTS, type RequestMap } from '../protocol/requests';
import type { FromWorker, KindMap, ToWorker } from '../protocol/wire';

export class WorkerCrashedError extends LatentStudioError {
  override name = 'WorkerCrashedError';
}

/** An error that came back from the worker, rebuilt with its original name. */
export class RemoteError extends LatentStudioError {
  readonly field: string | undefined;
  constructor(error: SerializedError) {
    super(error.message, error.detail);
    this.name = error.name;
    this.field = error.field;
  }
}

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
  onProgress: ((progress: Progress) => void) | undefined;
}

export interface RequestOptions {
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
}

export type WorkerFactory = () => Worker;

/**
 * How long a worker with work pending may stay silent (no progress, result or pong) before it is
 * taken for dead and restarted. It answers pings between network calls, so the bound is the
 * longest single call: the longest measured here was 8 s (creating a full-size SD 1.5 UNet session
 * on WebGPU); a real SD 1.5 UNet call on a slow CPU takes tens of seconds. `?workerTimeout=ms`
 * changes it.
 */
export const DEFAULT_SILENCE_MS = 120_000;

/**
 * A worker that has not said anything yet is still starting (fetching and compiling ONNX Runtime's
 * WASM, 14–27 MB): it may stay silent this long, or `silenceMs` when that is longer. With the
 * tests' 6 s bound, a new worker on a busy 2-core machine was taken for dead while it started.
 */
export const STARTUP_MS = 30_000;

/** The one worker and what is pending on it, shared by every typed view of the client. */
class WorkerLink {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  onCrash: ((error: Error) => void) | null = null;
  private lastHeard = 0;
  /** Whether the current worker has answered anything yet (until then it is starting). */
  private started = false;
  private watchdog: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly createWorker: WorkerFactory,
    private readonly silenceMs: number,
    private readonly startupMs: number,
  ) {}

  /**
   * While requests are pending, pings the worker every second and restarts it when it has said
   * nothing for `silenceMs`: a worker that closed or hung sends no error event, and its jobs would
   * wait forever.
   */
  private watch(): void {
    if (this.watchdog) return;
    this.lastHeard = Date.now();
    const interval = Math.min(1000, Math.max(50, this.silenceMs / 4));
    this.watchdog = setInterval(() => {
      if (this.pending.size === 0 || !this.worker) {
        if (this.watchdog) clearInterval(this.watchdog);
        this.watchdog = null;
        return;
      }
      const bound = this.started ? this.silenceMs : Math.max(this.silenceMs, this.startupMs);
      if (Date.now() - this.lastHeard > bound) {
        const seconds = Math.round(bound / 1000);
        this.crash(
          new WorkerCrashedError(
            this.started
              ? `The inference worker stopped answering (nothing for ${seconds} s). It was restarted; try again.`
              : `The inference worker did not start (nothing from it for ${seconds} s). It was restarted; try again.`,
          ),
        );
        return;
      }
      this.worker.postMessage({ type: 'ping', id: 0 } satisfies ToWorker);
    }, interval);
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = this.createWorker();
    this.started = false;
    worker.addEventListener('message', (event: MessageEvent<FromWorker>) => this.receive(event.data));
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      this.crash(
        new WorkerCrashedError(
          `The inference worker crashed${event.message ? `: ${event.message}` : ''}. It was restarted; try again.`,
        ),
      );
    });
    worker.addEventListener('messageerror', () =>
      this.crash(new WorkerCrashedError('A message from the inference worker could not be read.')),
    );
    this.worker = worker;
    return worker;
  }

  crash(error: Error): void {
    this.worker?.terminate();
    this.worker = null;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(error);
    this.onCrash?.(error);
  }

  reset(error: Error): void {
    const onCrash = this.onCrash;
    this.onCrash = null;
    this.crash(error);
    this.onCrash = onCrash;
  }

  private receive(message: FromWorker): void {
    this.lastHeard = Date.now();
    this.started = true;
    if (message.type === 'pong') return;
    const pending = this.pending.get(message.id);
    if (!pending) return;
    if (message.type === 'progress') {
      pending.onProgress?.(message.progress);
      return;
    }
    this.pending.delete(message.id);
    if (message.type === 'error') pending.reject(new RemoteError(message.error));
    else pending.resolve(message.result);
  }

  send(kind: string, params: unknown, transfer: ArrayBuffer[], options: RequestOptions): Promise<unknown> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress: options.onProgress });
      worker.postMessage({ type: 'request', id, kind, params }, transfer);
      this.watch();
      options.signal?.addEventListener('abort', () => worker.postMessage({ type: 'cancel', id } satisfies ToWorker), {
        once: true,
      });
    });
  }
}

/** The inference worker as the page sees it: the request kinds of `rows`, typed, over one worker. */
export class InferenceClient<M extends KindMap = RequestMap> {
  private constructor(
    private readonly link: WorkerLink,
    private readonly rows: RowsFor<M>,
  ) {}

  /** The product's client: the kinds of protocol/requests.ts. */
  static create(createWorker: WorkerFactory, silenceMs = DEFAULT_SILENCE_MS, startupMs = STARTUP_MS): InferenceClient {
    return new InferenceClient<RequestMap>(new WorkerLink(createWorker, silenceMs, startupMs), REQUESTS);
  }

  /** The same worker with more kinds (the benchmark's and tests' rows, loaded only with their page flags). */
  extend<D extends KindMap>(rows: RowsFor<D>): InferenceClient<M & D> {
    return new InferenceClient<M & D>(this.link, { ...this.rows, ...rows });
  }

  /** Called after a crash so the UI can say so and reload the model. */
  set onCrash(handler: ((error: Error) => void) | null) {
    this.link.onCrash = handler;
  }

  /** Ends the worker and fails what is pending with `error`, without reporting a crash (a lost GPU device). */
  reset(error: Error): void {
    this.link.reset(error);
  }

  /** Ends the worker as a crash would (used to recover from a lost GPU device, and by tests). */
  restart(reason = 'The inference worker was restarted.'): void {
    this.link.crash(new WorkerCrashedError(reason));
  }

  request<K extends keyof M & string>(
    kind: K,
    params: M[K]['params'],
    options: RequestOptions = {},
  ): Promise<M[K]['result']> {
    // The worker answers each kind from that kind's own typed runner: its result is this kind's.
    return this.link.send(kind, params, this.rows[kind].sends(params), options);
  }
}
