/**
 * A request kind as one row: the params the page sends and the result it gets back (as types),
 * the parser the worker runs at its edge, and the buffers that cross each way transferred rather
 * than copied. Adding a kind is one row here and one runner in the worker.
 */
import type { JsonObject } from '../core/json';

export interface RequestRow<Params, Result, Parsed> {
  /** What arrives is unknown: typed params out, or a ValidationError naming the field at fault. */
  parse(raw: JsonObject): Parsed;
  /** Buffers the params hand over to the worker (the page keeps its own copies where it needs them). */
  sends(params: Params): ArrayBuffer[];
  /** Buffers the result hands back to the page. */
  returns(result: Result): ArrayBuffer[];
}

/** Any row: a table of them is a protocol. (Methods take their params bivariantly, so every row fits.) */
export type AnyRow = RequestRow<never, never, unknown>;
export type RowTable = Record<string, AnyRow>;

export type ParamsOf<R> = R extends RequestRow<infer P, never, unknown> ? P : never;
export type ResultOf<R> = R extends RequestRow<never, infer Q, unknown> ? Q : never;
export type ParsedOf<R> = R extends RequestRow<never, never, infer X> ? X : never;

/** The rows of a kind → {params, result} map: what the page needs to send each kind. */
export type RowsFor<M extends Record<string, { params: unknown; result: unknown }>> = {
  [K in keyof M]: RequestRow<M[K]['params'], M[K]['result'], unknown>;
};

/** A table's kind → {params, result} map, as the page sees it. */
export type ProtocolOf<T extends RowTable> = { [K in keyof T]: { params: ParamsOf<T[K]>; result: ResultOf<T[K]> } };

const nothing = (): ArrayBuffer[] => [];

/**
 * The row of a kind whose params are `Params` and whose result is `Result`: `row<P, R>()({ parse,
 * sends?, returns? })`. Buffers cross by transfer only where `sends` and `returns` name them.
 */
export function row<Params, Result>() {
  return <Parsed>(spec: {
    parse(raw: JsonObject): Parsed;
    sends?(params: Params): ArrayBuffer[];
    returns?(result: Result): ArrayBuffer[];
  }): RequestRow<Params, Result, Parsed> => ({
    parse: (raw) => spec.parse(raw),
    sends: (params) => spec.sends?.(params) ?? nothing(),
    returns: (result) => spec.returns?.(result) ?? nothing(),
  });
}

/** The buffers that are there, in order (optional inputs leave holes). */
export function buffers(...list: (ArrayBuffer | undefined)[]): ArrayBuffer[] {
  return list.filter((b): b is ArrayBuffer => b !== undefined);
}
