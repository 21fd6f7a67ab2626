/**
 * The worker's jobs: requests run one at a time, in the order they came (a generate waits for the
 * model load before it), each with its own AbortController so a cancel reaches it by id.
 */
export interface Job {
  id: number;
  controller: AbortController;
}

export class JobQueue {
  private readonly jobs = new Map<number, Job>();
  private tail: Promise<void> = Promise.resolve();
  /** The job running now, if any. */
  current: Job | null = null;

  /** Queues `run` after every job before it; the job is known by `id` until it ends. */
  add(id: number, run: (job: Job) => Promise<void>): void {
    const job: Job = { id, controller: new AbortController() };
    this.jobs.set(id, job);
    this.tail = this.tail.then(async () => {
      this.current = job;
      try {
        await run(job);
      } finally {
        this.jobs.delete(id);
        this.current = null;
      }
    });
  }

  cancel(id: number): void {
    this.jobs.get(id)?.controller.abort();
  }

  /** Aborts every queued and running job (the GPU device is gone: none of them can finish). */
  abortAll(): void {
    for (const job of this.jobs.values()) job.controller.abort();
  }
}
