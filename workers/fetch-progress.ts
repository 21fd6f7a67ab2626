import { CancelledError, ModelError } from '../src/core/errors';
import type { Progress } from '../src/protocol/messages';

/** fetch, with a network failure told apart from a cancel and named by the file it was for. */
async function request(url: string, file: string, signal: AbortSignal): Promise<Response> {
  try {
    return await fetch(url, { signal });
  } catch (error) {
    if (signal.aborted) throw new CancelledError();
    throw new ModelError(`Could not download ${file}: ${error instanceof Error ? error.message : String(error)}.`);
  }
}

/** Downloads a file, reporting bytes as they arrive; one buffer, filled in place when the size is known. */
export async function fetchBytes(
  url: string,
  file: string,
  onProgress: (progress: Progress) => void,
  signal: AbortSignal,
): Promise<Uint8Array> {
  const response = await request(url, file, signal);
  if (!response.ok) throw new ModelError(`Could not download ${file}: the server answered ${response.status}.`);
  const header = response.headers.get('content-length');
  const total = header !== null && /^\d+$/.test(header) ? Number(header) : null;
  if (!response.body) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    onProgress({ kind: 'download', file, loaded: bytes.length, total: bytes.length });
    return bytes;
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  onProgress({ kind: 'download', file, loaded, total });
  for (;;) {
    let next: ReadableStreamReadResult<Uint8Array>;
    try {
      next = await reader.read();
    } catch (error) {
      if (signal.aborted) throw new CancelledError();
      throw new ModelError(
        `The download of ${file} broke off: ${error instanceof Error ? error.message : String(error)}.`,
      );
    }
    if (next.done) break;
    chunks.push(next.value);
    loaded += next.value.length;
    onProgress({ kind: 'download', file, loaded, total });
  }
  if (total !== null && loaded !== total) {
    throw new ModelError(`The download of ${file} is incomplete: ${loaded} of ${total} bytes arrived.`);
  }
  const bytes = new Uint8Array(loaded);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

export async function fetchJson<T>(url: string, file: string, signal: AbortSignal): Promise<T | null> {
  const response = await request(url, file, signal);
  if (response.status === 404) return null;
  if (!response.ok) throw new ModelError(`Could not download ${file}: the server answered ${response.status}.`);
  try {
    return (await response.json()) as T;
  } catch {
    throw new ModelError(`${file} is not valid JSON.`);
  }
}
