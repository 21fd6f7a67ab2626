/**
 * Model files from the network or Cache Storage. Downloads stream into one buffer of the announced
 * size (never two copies of a 2 GB file), or, for safetensors past one buffer or converted to
 * fp16, into the rewritten files (SafetensorsRewriter); they report progress, resume with Range
 * after a dropped connection when the server allows it, give up on a stalled one, check size (and
 * sha256 when known), and are cached only when complete, so a broken download never leaves a
 * cache entry.
 */
import { CancelledError, ModelError } from '../../core/errors';
import { cacheKey, type FileRef } from '../../protocol/load-plan';
import { SafetensorsRewriter } from '../../core/formats/safetensors-rewrite';
import { SHARD_BYTES } from '../../core/networks/convert-weights';
import { cachedParts, putFile, putParts } from '../../storage/model-cache';
import { isAllowedHost, notAllowedMessage } from '../../models/origins';
import { hostAnswerMessage, unreachableMessage } from '../../models/reach';

export interface DownloadOptions {
  signal: AbortSignal;
  /** Bytes of this file so far, and its total when known. */
  onBytes: (loaded: number, total: number | null) => void;
  /** No byte for this long ends the attempt (a stalled connection). */
  stallMs?: number;
  /** Whether to read from and write to Cache Storage. */
  cache: boolean;
  /** Hosts besides this site that the file and its redirects may come from (none given: no check). */
  hosts?: readonly string[];
  /**
   * Hosts whose redirects are followed (the hub's, to its CDNs). From any other host a redirect is
   * not followed: the request to where it points never leaves (none given: redirects followed).
   */
  redirectHosts?: readonly string[];
}

/** This worker's (or page's) own origin, which the app always trusts. */
const selfOrigin = (): string => (typeof location === 'undefined' ? '' : location.origin);

const MAX_RESUMES = 3;
/** Chrome cannot allocate one ArrayBuffer much past 2 GiB. */
const MAX_BUFFER_BYTES = 2 ** 31 - 1;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A fetch that a stall or the caller's signal can abort, with the reason kept. */
function fetchWithStall(url: string, init: RequestInit, signal: AbortSignal, stallMs: number) {
  const controller = new AbortController();
  let stalled = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const kick = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      controller.abort();
    }, stallMs);
  };
  const onAbort = () => controller.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  kick();
  return {
    response: fetch(url, { ...init, signal: controller.signal }),
    kick,
    stalled: () => stalled,
    done: () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    },
  };
}

/**
 * The file's bytes, from the cache when there, else downloaded (and then cached when asked): one
 * buffer, or the files a safetensors file past one buffer was split into (see download).
 */
export async function loadFile(
  ref: FileRef,
  options: DownloadOptions,
): Promise<{ files: Uint8Array[]; fromCache: boolean }> {
  if (options.cache) {
    const hit = await cachedParts(cacheKey(ref));
    if (hit) {
      const size = hit.reduce((n, f) => n + f.length, 0);
      options.onBytes(size, size);
      return { files: hit, fromCache: true };
    }
  }
  const files = await download(ref, options);
  if (options.cache) {
    try {
      if (files.length === 1) await putFile(cacheKey(ref), files[0]!);
      else await putParts(cacheKey(ref), files);
    } catch (error) {
      // Storage full or unavailable: the model still loads, it just is not kept.
      console.warn(`${ref.path} was not cached: ${describe(error)}`);
    }
  }
  return { files, fromCache: false };
}

const preview = (bytes: Uint8Array): string =>
  new TextDecoder()
    .decode(bytes.subarray(0, 60))
    .replace(/\s+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .trim();

/**
 * Says what the server actually sent when it is not the file asked for: an HTML page (a login or
 * error page served with status 200), or bytes that cannot be an ONNX graph or a safetensors file.
 */
export function checkArrived(ref: FileRef, bytes: Uint8Array, contentType: string | null): void {
  const head = new TextDecoder().decode(bytes.subarray(0, 256)).trimStart().toLowerCase();
  const html = /text\/html/i.test(contentType ?? '') || head.startsWith('<!doctype html') || head.startsWith('<html');
  if (html) {
    throw new ModelError(
      `The server sent an HTML page (${bytes.length} bytes${contentType ? `, ${contentType}` : ''}) instead of ${ref.path}: it begins "${preview(bytes)}". The URL is probably wrong, or the file needs a login.`,
    );
  }
  const name = ref.path.toLowerCase();
  // A serialized ModelProto starts with field 1 (ir_version) as a varint: the byte 0x08.
  if (name.endsWith('.onnx') && bytes[0] !== 0x08) {
    throw new ModelError(`${ref.path} is not an ONNX model (${bytes.length} bytes beginning "${preview(bytes)}").`);
  }
  if (name.endsWith('.safetensors')) {
    // The header's JSON starts right after its 8-byte length.
    const looksRight = bytes.length >= 9 && bytes[8] === 0x7b;
    if (!looksRight) {
      throw new ModelError(
        `${ref.path} is not a safetensors file (${bytes.length} bytes beginning "${preview(bytes)}").`,
      );
    }
  }
}

export async function download(ref: FileRef, options: DownloadOptions): Promise<Uint8Array[]> {
  const stallMs = options.stallMs ?? 30_000;
  let buffer: Uint8Array | null = null;
  // float32 weights to rewrite as fp16, or safetensors past one buffer: only the rewritten files
  // are held, never the original.
  let halver: SafetensorsRewriter | null = null;
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  let total: number | null = ref.size ?? null;
  let contentType: string | null = null;
  if (ref.missing) throw new ModelError(`${ref.path} is not in the model's folder (404).`);
  if (options.hosts && !isAllowedHost(ref.url, options.hosts, selfOrigin())) {
    throw new ModelError(`${ref.path}: ${notAllowedMessage(ref.url, options.hosts)}`);
  }
  for (let attempt = 0; ; attempt++) {
    const resuming = loaded > 0;
    // 'manual', not 'error': the redirect is not followed either way, and this way it can be named.
    const follow = !options.redirectHosts || isAllowedHost(ref.url, options.redirectHosts, selfOrigin());
    const request = fetchWithStall(
      ref.url,
      {
        ...(resuming ? { headers: { Range: `bytes=${loaded}-` } } : {}),
        ...(follow ? {} : { redirect: 'manual' as const }),
      },
      options.signal,
      stallMs,
    );
    try {
      let response: Response;
      try {
        response = await request.response;
      } catch (error) {
        if (options.signal.aborted) throw new CancelledError();
        if (request.stalled())
          throw new ModelError(`The download of ${ref.path} stalled: no data for ${Math.round(stallMs / 1000)} s.`);
        throw new ModelError(unreachableMessage(ref.url), `${ref.path}: ${describe(error)}.`);
      }
      if (response.type === 'opaqueredirect') {
        throw new ModelError(
          `${ref.url} answered with a redirect, which this app does not follow for hosts other than the hub (a redirect could send the request anywhere). Give the file's final address: load the model from the folder it redirects to.`,
        );
      }
      // A redirect to a host outside the policy is refused before its body is read.
      if (options.hosts && response.url && !isAllowedHost(response.url, options.hosts, selfOrigin())) {
        void response.body?.cancel();
        throw new ModelError(
          `${ref.path}: the server redirected to ${new URL(response.url).origin}, which is not one of the hosts this app loads models from (this site, ${options.hosts.join(', ')}). The download was refused.`,
        );
      }
      if (resuming && response.status === 416) {
        throw new ModelError(
          `The download of ${ref.path} is incomplete: ${loaded} of ${total} bytes arrived (the server has no more). Nothing was cached; try again.`,
        );
      }
      if (resuming && response.status !== 206) {
        throw new ModelError(
          `The download of ${ref.path} broke off and the server cannot resume it (no Range support).`,
        );
      }
      if (!response.ok) {
        throw new ModelError(
          response.status === 404
            ? `${ref.path} was not found on the server (404): check the repo id and revision.`
            : hostAnswerMessage(ref.url, response, ref.path),
        );
      }
      if (!resuming) {
        contentType = response.headers.get('content-type');
        const header = response.headers.get('content-length');
        const announced = header !== null && /^\d+$/.test(header) ? Number(header) : null;
        if (ref.size !== undefined && announced !== null && announced !== ref.size) {
          throw new ModelError(`${ref.path} should be ${ref.size} bytes but the server announces ${announced}.`);
        }
        total = announced ?? total;
        // safetensors are split into files of SHARD_BYTES as they arrive; other files are held whole.
        const kept = total !== null ? total / (ref.convert ? 2 : 1) : null;
        const split = kept !== null && kept > MAX_BUFFER_BYTES && ref.path.endsWith('.safetensors');
        if (kept !== null && kept > MAX_BUFFER_BYTES && !split) {
          void response.body?.cancel();
          throw new ModelError(
            `${ref.path} is ${(kept / 2 ** 30).toFixed(2)} GiB, more than the ~2 GiB a browser can hold in one buffer. Use an export with its weights in files under 2 GiB (model.onnx + model.onnx_data), or the model's safetensors.`,
          );
        }
        if (ref.convert === 'fp16' || split) {
          if (total === null) throw new ModelError(`${ref.path} cannot be read in parts: its size is not known.`);
          halver = new SafetensorsRewriter(ref.path, total, {
            toFp16: ref.convert === 'fp16',
            ...(split ? { shardBytes: SHARD_BYTES } : {}),
          });
        } else if (total !== null) {
          // One buffer of the final size when it is known; chunks otherwise.
          buffer = new Uint8Array(total);
        }
      }
      options.onBytes(loaded, total);
      const reader = response.body!.getReader();
      for (;;) {
        const next = await reader.read();
        if (next.done) break;
        request.kick();
        const chunk = next.value;
        if (halver) {
          if (loaded + chunk.length > (total ?? 0)) {
            throw new ModelError(`${ref.path} is larger than the ${total} bytes the server announced.`);
          }
          halver.write(chunk);
        } else if (buffer) {
          if (loaded + chunk.length > buffer.length) {
            throw new ModelError(`${ref.path} is larger than the ${buffer.length} bytes the server announced.`);
          }
          buffer.set(chunk, loaded);
        } else {
          chunks.push(chunk);
        }
        loaded += chunk.length;
        options.onBytes(loaded, total);
      }
      if (total !== null && loaded < total) throw new RangeError('short');
      break;
    } catch (error) {
      if (options.signal.aborted) throw new CancelledError();
      if (error instanceof ModelError || error instanceof CancelledError) throw error;
      // The body broke off (or stalled) mid-way: resume from what arrived, a few times.
      const short = total !== null && loaded < total;
      if (!short || attempt >= MAX_RESUMES || !(buffer || halver)) {
        if (request.stalled())
          throw new ModelError(`The download of ${ref.path} stalled: no data for ${Math.round(stallMs / 1000)} s.`);
        throw new ModelError(
          total !== null
            ? `The download of ${ref.path} is incomplete: ${loaded} of ${total} bytes arrived. Nothing was cached; try again.`
            : `The download of ${ref.path} broke off: ${describe(error)}.`,
        );
      }
    } finally {
      request.done();
    }
  }
  if (halver) {
    const { files, sha256 } = halver.finish();
    if (ref.sha256 && sha256 !== ref.sha256.toLowerCase()) {
      throw new ModelError(
        `${ref.path} does not match its published SHA-256: the download is damaged. Nothing was cached.`,
      );
    }
    return files;
  }
  let bytes: Uint8Array;
  if (buffer) bytes = buffer;
  else {
    bytes = new Uint8Array(loaded);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
  }
  checkArrived(ref, bytes, contentType);
  if (ref.size !== undefined && bytes.length !== ref.size) {
    throw new ModelError(
      `${ref.path} arrived with ${bytes.length} bytes; ${ref.size} were expected. Nothing was cached.`,
    );
  }
  if (ref.sha256 && (await sha256Hex(bytes)) !== ref.sha256.toLowerCase()) {
    throw new ModelError(
      `${ref.path} does not match its published SHA-256: the download is damaged. Nothing was cached.`,
    );
  }
  return [bytes];
}
