/**
 * The denoising steps the page's worker reports, recorded at the worker boundary (the DOM lags a
 * frame behind), and the step the page knew when it sent a cancel.
 */
import type { Session } from './browser';

interface Steps {
  __lastStep?: number;
  __stepAtCancel?: number;
}

/** Records steps from the next page load on (reload the page after calling it). */
export async function recordSteps(session: Session): Promise<void> {
  await session.page.addInitScript(() => {
    const w = window as unknown as Steps & { Worker: typeof Worker };
    const Original = w.Worker;
    w.Worker = class extends Original {
      constructor(url: string | URL, options?: WorkerOptions) {
        super(url, options);
        this.addEventListener('message', (e: MessageEvent) => {
          const m = e.data as { type?: string; progress?: { kind?: string; phase?: string; step?: number } };
          if (m.type === 'progress' && m.progress?.kind === 'pipeline' && m.progress.phase === 'denoise') {
            w.__lastStep = m.progress.step ?? 0;
          }
        });
      }
      override postMessage(message: unknown, transfer?: Transferable[] | StructuredSerializeOptions): void {
        if ((message as { type?: string }).type === 'cancel') w.__stepAtCancel = w.__lastStep ?? 0;
        super.postMessage(message, transfer as Transferable[]);
      }
    };
  });
}

/** Waits until the worker has reported denoising step `step` or later. */
export async function waitForStep(session: Session, step: number, timeout: number): Promise<void> {
  await session.page.waitForFunction((n) => ((window as unknown as Steps).__lastStep ?? 0) >= n, step, { timeout });
}

/** The step the page knew when it sent the cancel, and the last step the worker reported. */
export const cancelSteps = (session: Session) =>
  session.page.evaluate(() => {
    const w = window as unknown as Steps;
    return { atClick: w.__stepAtCancel ?? -1, stopped: w.__lastStep ?? -1 };
  });

export const statusOf = (session: Session) => session.page.getByTestId('status').getAttribute('data-state');
