/** One policy for where model files may come from: the page's CSP, its checks, and the worker's downloads. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { connectRefusal, CONNECT_SOURCES, isAllowedHost, modelHosts } from '../../../src/models/origins';
import { contentSecurityPolicy } from '../../../csp.config';
import { download } from '../../../src/worker/loading/download';

describe('model hosts', () => {
  it('are this site, the hub and its CDNs; the CSP is written from the same list', () => {
    const hosts = modelHosts('https://huggingface.co');
    expect(hosts).toEqual(['https://huggingface.co', 'https://*.huggingface.co', 'https://*.hf.co']);
    expect(contentSecurityPolicy()).toContain(`connect-src 'self' blob: ${CONNECT_SOURCES.join(' ')}`);
    const self = 'http://127.0.0.1:4173';
    expect(isAllowedHost('https://cdn-lfs.huggingface.co/x', hosts, self)).toBe(true);
    expect(isAllowedHost('https://cas-bridge.xethub.hf.co/x', hosts, self)).toBe(true);
    expect(isAllowedHost('http://127.0.0.1:4173/models/a', hosts, self)).toBe(true);
    expect(isAllowedHost('blob:http://127.0.0.1:4173/1234', hosts, self)).toBe(true);
    expect(isAllowedHost('https://evil.example/huggingface.co', hosts, self)).toBe(false);
    expect(isAllowedHost('https://huggingface.co.evil.example/x', hosts, self)).toBe(false);
    expect(isAllowedHost('http://huggingface.co/x', hosts, self)).toBe(false);
    expect(isAllowedHost('http://127.0.0.1:4181/x', hosts, self)).toBe(false);
    expect(modelHosts('http://127.0.0.1:9/mirror/')).toEqual(['http://127.0.0.1:9']);
  });
});

describe("the origins a person may choose (the page's CSP)", () => {
  const self = 'http://127.0.0.1:4173';
  it('are any https origin and plain http on this machine, any port', () => {
    for (const url of [
      'https://mirror.example/owner/name/resolve/main/model_index.json',
      'http://127.0.0.1:4180/cdn/fixtures/sd1/model_index.json',
      'http://localhost:8000/sd/model_index.json',
      'blob:http://127.0.0.1:4173/1234',
    ])
      expect(connectRefusal(url, self)).toBeNull();
    expect(contentSecurityPolicy()).toMatch(/script-src 'self' 'wasm-unsafe-eval';/);
  });

  it('refuses plain http on another machine and other schemes, saying why', () => {
    expect(connectRefusal('http://192.168.1.20:8000/sd/model_index.json', self)).toMatch(
      /^http:\/\/192\.168\.1\.20:8000 is plain http on another machine.*Serve it over https, or from this machine/,
    );
    expect(connectRefusal('ftp://example.com/x', self)).toMatch(/ftp: addresses cannot serve models/);
    expect(connectRefusal('not a url', self)).toBe('"not a url" is not a URL.');
  });
});

describe('the worker downloads only from those hosts', () => {
  afterEach(() => vi.unstubAllGlobals());
  const options = {
    signal: new AbortController().signal,
    onBytes: () => undefined,
    cache: false,
    hosts: ['https://huggingface.co'],
  };

  it('refuses a redirect to another host before reading its body', async () => {
    const body = new ReadableStream({ pull: () => undefined });
    const response = new Response(body, { status: 200, headers: { 'content-length': '10' } });
    Object.defineProperty(response, 'url', { value: 'https://evil.example/unet.onnx' });
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => response),
    );
    await expect(
      download({ url: 'https://huggingface.co/a/b/resolve/main/unet/model.onnx', path: 'unet/model.onnx' }, options),
    ).rejects.toThrow(
      'unet/model.onnx: the server redirected to https://evil.example, which is not one of the hosts this app loads models from (this site, https://huggingface.co). The download was refused.',
    );
  });

  it('refuses a file on another host without asking it', async () => {
    const fetch = vi.fn();
    vi.stubGlobal('fetch', fetch);
    await expect(
      download({ url: 'https://evil.example/model.onnx', path: 'unet/model.onnx' }, options),
    ).rejects.toThrow(/unet\/model\.onnx: https:\/\/evil\.example is not one of the hosts this app loads models from/);
    expect(fetch).not.toHaveBeenCalled();
  });
});
