/**
 * A stand-in for the Hugging Face hub on 127.0.0.1: serves model folders as
 * /{owner}/{name}/resolve/{revision}/{path}, redirecting to a /cdn/ URL as the hub does for large
 * files, with Content-Length, Range (206), CORS, and fault modes for one path or all; and the hub's
 * file listing, /api/models/{owner}/{name}/revision/{revision} (sizes and LFS sha256 with ?blobs=true).
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';

export type Fault = '404' | 'truncate' | 'stall' | 'wrong-size' | 'html' | { throttle: number };

export interface MockHub {
  url: string;
  /** Paths requested (after redirects), in order. */
  requests: string[];
  setFault(pathSuffix: string, fault: Fault | null): void;
  clearFaults(): void;
  stop(): Promise<void>;
}

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'content-length, content-range, accept-ranges, etag',
};

/** The port the e2e server proxies /mock-hub/ to, so the hub is same-origin and the CSP needs no exception. */
export const MOCK_HUB_PORT = 4180;
export const MOCK_HUB_PATH = '/mock-hub';

/** Binary files are LFS files on the hub: their listing entry has lfs.sha256 and lfs.size. */
const LFS = /\.(safetensors|onnx|onnx_data|pb|bin|ckpt|png)$/;

/** The hub's answer for a repo: its files, with sizes and LFS hashes when asked for blobs. */
function listing(repo: string, dir: string, blobs: boolean) {
  const files: string[] = [];
  const walk = (sub: string) => {
    for (const entry of readdirSync(join(dir, sub), { withFileTypes: true })) {
      const path = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path);
      else files.push(path);
    }
  };
  walk('');
  return {
    id: repo,
    // A commit id of the listing's own making: stable for the same repo name.
    sha: createHash('sha1').update(repo).digest('hex'),
    siblings: files.sort().map((rfilename) => {
      if (!blobs) return { rfilename };
      const size = statSync(join(dir, rfilename)).size;
      // Big (sparse) test files are listed without reading them.
      const sha256 =
        LFS.test(rfilename) && size < 64 * 2 ** 20
          ? createHash('sha256')
              .update(readFileSync(join(dir, rfilename)))
              .digest('hex')
          : undefined;
      return { rfilename, size, ...(LFS.test(rfilename) ? { lfs: { size, ...(sha256 ? { sha256 } : {}) } } : {}) };
    }),
  };
}

export async function startMockHub(repos: Record<string, string>, port = 0, publicBase = ''): Promise<MockHub> {
  const faults = new Map<string, Fault>();
  const requests: string[] = [];
  const sockets = new Set<Socket>();

  const faultFor = (path: string): Fault | undefined => {
    for (const [suffix, fault] of faults) if (suffix === '*' || path.endsWith(suffix)) return fault;
    return undefined;
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        ...CORS,
        'access-control-allow-headers': 'range',
        'access-control-allow-methods': 'GET, HEAD',
      });
      res.end();
      return;
    }
    const api = /^\/api\/models\/([\w.-]+\/[\w.-]+)\/revision\/([\w.-]+)$/.exec(decodeURIComponent(url.pathname));
    if (api) {
      requests.push(url.pathname);
      const dir = repos[api[1]!];
      if (!dir || faultFor('api') === '404') {
        res.writeHead(404, { ...CORS, 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'Repository not found' }));
        return;
      }
      res.writeHead(200, { ...CORS, 'content-type': 'application/json' });
      res.end(JSON.stringify(listing(api[1]!, dir, url.searchParams.get('blobs') === 'true')));
      return;
    }
    const resolve = /^\/([\w.-]+\/[\w.-]+)\/resolve\/([\w.-]+)\/(.+)$/.exec(decodeURIComponent(url.pathname));
    if (resolve) {
      // The hub answers /resolve/ with a redirect to its CDN for large files.
      res.writeHead(302, { ...CORS, location: `${publicBase}/cdn/${resolve[1]}/${resolve[3]}` });
      res.end();
      return;
    }
    const cdn = /^\/cdn\/([\w.-]+\/[\w.-]+)\/(.+)$/.exec(decodeURIComponent(url.pathname));
    const dir = cdn ? repos[cdn[1]!] : undefined;
    const file = cdn && dir ? join(dir, cdn[2]!) : null;
    requests.push(url.pathname);
    const fault = file ? faultFor(cdn![2]!) : undefined;
    if (!file || !existsSync(file) || !statSync(file).isFile() || fault === '404') {
      res.writeHead(404, { ...CORS, 'content-type': 'text/plain' });
      res.end('Entry not found');
      return;
    }
    if (fault === 'html') {
      // A login or error page served with status 200, as misconfigured mirrors do.
      res.writeHead(200, { ...CORS, 'content-type': 'text/html; charset=utf-8' });
      res.end('<!DOCTYPE html><html><head><title>Sign in</title></head><body>Please sign in</body></html>');
      return;
    }
    const size = statSync(file).size;
    let start = 0;
    let end = size - 1;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
    }
    if (start >= size) {
      res.writeHead(416, { ...CORS, 'content-range': `bytes */${size}` });
      res.end();
      return;
    }
    const length = end - start + 1;
    const headers: Record<string, string> = {
      ...CORS,
      'content-type': 'application/octet-stream',
      'accept-ranges': 'bytes',
      'content-length': String(fault === 'wrong-size' ? length + 1000 : length),
    };
    if (range) headers['content-range'] = `bytes ${start}-${end}/${size}`;
    res.writeHead(range ? 206 : 200, headers);
    if (fault === 'stall') {
      // Headers and a first slice, then nothing: the connection stays open.
      res.write(Buffer.alloc(Math.min(1024, length)));
      return;
    }
    if (fault === 'truncate' && length < 2) {
      res.destroy();
      return;
    }
    const stream = createReadStream(file, {
      start,
      end: fault === 'truncate' ? start + Math.floor(length / 2) - 1 : end,
      highWaterMark: typeof fault === 'object' ? fault.throttle : 64 * 1024,
    });
    // Written by hand, not piped: pipe() would resume a throttled stream on every drain.
    stream.on('data', (chunk) => {
      res.write(chunk);
      if (typeof fault === 'object') {
        // Throttled: one chunk every 40 ms, so progress can be watched.
        stream.pause();
        setTimeout(() => stream.resume(), 40);
      }
    });
    stream.on('end', () => {
      if (fault === 'truncate' || fault === 'wrong-size') res.destroy();
      else res.end();
    });
    res.on('close', () => stream.destroy());
  };

  const server: Server = createServer(handler);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://127.0.0.1:${actualPort}`,
    requests,
    setFault: (suffix, fault) => (fault ? faults.set(suffix, fault) : faults.delete(suffix)),
    clearFaults: () => faults.clear(),
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
