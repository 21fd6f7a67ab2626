/**
 * The runtime globals the core uses, which every place it runs has (browser, worker, Node).
 * Declared here so the core compiles without the DOM library: anything else DOM-only stays out.
 */
interface AbortSignal {
  readonly aborted: boolean;
}
declare const performance: { now(): number };
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string);
  decode(input?: Uint8Array): string;
}
/** Files and their slices: the browser's File, the worker's, Node's (18+). */
declare class Blob {
  readonly size: number;
  slice(start?: number, end?: number): Blob;
  arrayBuffer(): Promise<ArrayBuffer>;
}
/** A page's query string (the dev flags). */
declare class URLSearchParams {
  constructor(init?: string);
  has(name: string): boolean;
  get(name: string): string | null;
}
