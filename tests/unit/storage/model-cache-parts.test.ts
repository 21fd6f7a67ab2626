/**
 * A file kept in parts (a safetensors file past one buffer, split as it downloaded): read back as
 * its parts, never as a set cut short, and deleted whole.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cachedParts, deleteFile, partKey, putFile, putParts } from '../../../src/storage/model-cache';

/** Cache Storage in memory: one cache, responses kept as they were put. */
function memoryCaches() {
  const entries = new Map<string, Response>();
  const cache = {
    match: (url: string) => Promise.resolve(entries.get(url)?.clone()),
    put: (url: string, response: Response) => Promise.resolve(void entries.set(url, response)),
    delete: (url: string) => Promise.resolve(entries.delete(url)),
    keys: () => Promise.resolve([...entries.keys()].map((url) => new Request(`https://x.example/${url}`))),
  };
  return { entries, caches: { open: () => Promise.resolve(cache), delete: () => Promise.resolve(true) } };
}

describe('files kept in parts', () => {
  let store: ReturnType<typeof memoryCaches>;
  beforeEach(() => {
    store = memoryCaches();
    vi.stubGlobal('caches', store.caches);
  });
  afterEach(() => vi.unstubAllGlobals());

  const parts = [new Uint8Array([1, 2, 3]), new Uint8Array([4]), new Uint8Array([5, 6])];

  it('come back as the parts they were kept in; a file kept whole comes back as one', async () => {
    await putParts('u', parts);
    expect(await cachedParts('u')).toEqual(parts);
    await putFile('w', new Uint8Array([9, 9]));
    expect(await cachedParts('w')).toEqual([new Uint8Array([9, 9])]);
    expect(await cachedParts('absent')).toBeNull();
  });

  it('a set with a part gone is not the file', async () => {
    await putParts('u', parts);
    store.entries.delete(partKey('u', 1));
    expect(await cachedParts('u')).toBeNull();
  });

  it('deleting the file deletes every part', async () => {
    await putParts('u', parts);
    await deleteFile('u');
    expect([...store.entries.keys()]).toEqual([]);
  });
});
