/**
 * diffusers' `_step_index` and `_begin_index`: where a scheduler is in its schedule. The index is
 * fixed on the first step from the begin index (img2img's) or by finding the timestep, then moves
 * one per step. `find` is the scheduler's own lookup (DPM-Solver falls back to the last step).
 */
export class StepIndex {
  private step: number | null = null;
  private begin: number | null = null;

  constructor(private readonly find: (t: number) => number) {}

  /** A new schedule: nothing fixed yet. */
  reset(): void {
    this.step = null;
    this.begin = null;
  }

  setBegin(index: number): void {
    this.begin = index;
  }

  /** The index of the step at `t`, fixed from here on until `advance`. */
  current(t: number): number {
    this.step ??= this.begin ?? this.find(t);
    return this.step;
  }

  /** The index `current` would give, without fixing it (needs_noise before the step). */
  peek(t: number): number {
    return this.step ?? this.begin ?? this.find(t);
  }

  /** Where add_noise adds: the timestep itself before img2img set a begin index, as diffusers. */
  forNoise(t: number): number {
    return this.begin === null ? this.find(t) : (this.step ?? this.begin);
  }

  /** After a step at `index`. */
  advance(index: number): void {
    this.step = index + 1;
  }
}
