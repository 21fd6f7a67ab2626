/**
 * What the handler runs: for each kind of a row table, one runner that takes the parsed params and
 * resolves to that kind's result. The product's table is runners/; the benchmark's and tests' is
 * dev/dev-kinds.ts, added only when the page asked for it.
 */
import type { Progress } from '../../protocol/messages';
import type { ParsedOf, ResultOf, RowTable } from '../../protocol/request-row';

/** What a runner has besides its params: its job's signal and its progress channel. */
export interface RunContext {
  signal: AbortSignal;
  onProgress: (progress: Progress) => void;
}

export type Runner<Row> = (parsed: ParsedOf<Row>, ctx: RunContext) => Promise<ResultOf<Row>>;

export type Runners<T extends RowTable> = { [K in keyof T]: Runner<T[K]> };

export interface KindTable<T extends RowTable> {
  rows: T;
  runners: Runners<T>;
  /** Kinds that run whatever the GPU device's state, and that its loss does not cut short. */
  deviceFree?: readonly (keyof T & string)[];
  /** Requests that run at once instead of after the queued jobs (a fault that must strike mid-run). */
  urgent?: { [K in keyof T]?: (parsed: ParsedOf<T[K]>) => boolean };
}
