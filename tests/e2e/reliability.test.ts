import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate, setSettings } from './app';
import { BASE_URL, openApp, SCREENSHOTS, type Session } from './browser';

/** Bytes the page and its worker use, as Chrome measures them (cross-origin isolated pages only). */
async function memoryBytes(session: Session): Promise<number> {
  return session.page.evaluate(async () => {
    const perf = performance as unknown as { measureUserAgentSpecificMemory(): Promise<{ bytes: number }> };
    return (await perf.measureUserAgentSpecificMemory()).bytes;
  });
}

describe('reliability and security in the browser', () => {
  let session: Session;
  const requests: string[] = [];
  const violations: string[] = [];

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    session = await openApp({
      url: `${BASE_URL}?testHooks=1`,
      // Makes measureUserAgentSpecificMemory answer at once instead of at the next idle GC.
      args: ['--enable-blink-features=ForceEagerMeasureMemory', '--js-flags=--expose-gc'],
    });
    const { page, context } = session;
    context.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (/Content.Security.Policy/i.test(m.text())) violations.push(m.text());
    });
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.addInitScript(() =>
      document.addEventListener('securitypolicyviolation', (e) =>
        console.error(`Content Security Policy: ${e.violatedDirective} ${e.blockedURI}`),
      ),
    );
    await page.reload();
    await setSettings(page, { backend: 'wasm', width: 64, height: 64, steps: 3, prompt: 'a flooble', seed: '1' });
  });
  afterAll(async () => session?.close());

  it('serves a Content-Security-Policy as a header and a meta tag', async () => {
    const response = await session.page.request.get(BASE_URL);
    const header = response.headers()['content-security-policy'] ?? '';
    expect(header).toMatch(/default-src 'self'/);
    expect(header).toMatch(/script-src 'self' 'wasm-unsafe-eval'(;|$)/);
    expect(header).not.toMatch(/unsafe-inline|'unsafe-eval'/);
    const meta = await session.page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    expect(meta).toBe(header);
  });

  it('shows each bad input with its message, and the next good generation works', async () => {
    const { page } = session;
    const cases: [Parameters<typeof setSettings>[1], RegExp][] = [
      [{ width: 250 }, /Width must be a multiple of 8 .* nearest is 248/],
      [{ steps: 0 }, /Steps must be a whole number from 1 to 1000/],
      [{ steps: 5000 }, /Steps must be a whole number from 1 to 1000/],
      [{ seed: 'abc' }, /Seed must be a whole number from 0 to 18446744073709551615/],
      [{ seed: '18446744073709551616' }, /2\^64 − 1/],
      [{ guidance: -3 }, /Guidance scale must be between 0 and 100/],
      [{ height: 4096 }, /Height must be between 64 and 2048 pixels, got 4096/],
    ];
    for (const [bad, message] of cases) {
      await setSettings(page, bad);
      expect(await generate(page)).toBe('error');
      expect(await page.getByTestId('error').textContent()).toMatch(message);
      await setSettings(page, { width: 64, height: 64, steps: 3, seed: '1', guidance: 7.5 });
    }
    await page.getByTestId('guidance-scale').fill('');
    expect(await generate(page)).toBe('error');
    expect(await page.getByTestId('error').textContent()).toMatch(/Guidance scale must be a number/);
    await setSettings(page, { guidance: 7.5 });
    // Empty prompt: allowed, as in diffusers.
    await setSettings(page, { prompt: '' });
    expect(await generate(page)).toBe('done');
    // Over 77 tokens: generated, and what CLIP cut is shown.
    await setSettings(page, { prompt: `a ${'very '.repeat(100)}long prompt about a flooble` });
    expect(await generate(page)).toBe('done');
    expect(await page.locator('.result-meta').textContent()).toMatch(/Cut past CLIP's 77 tokens: “.*flooble”/);
    await setSettings(page, { prompt: 'a flooble' });
    expect(await generate(page)).toBe('done');
  });

  it('a killed worker is noticed, restarted, and the next generation works', async () => {
    const { page } = session;
    await page.evaluate(() =>
      (window as unknown as { latentStudioTestHook(a: string): Promise<unknown> }).latentStudioTestHook('crash'),
    );
    await expect.poll(() => page.getByTestId('status').getAttribute('data-state')).toBe('error');
    expect(await page.getByTestId('error').textContent()).toMatch(/The inference worker crashed.*restarted/);
    await page.screenshot({ path: `${SCREENSHOTS}/worker-crash.png` });
    expect(await generate(page)).toBe('done');
  });

  it('a lost GPU device is reported, then the device and sessions are recreated', async () => {
    const { page } = session;
    await setSettings(page, { backend: 'webgpu' });
    expect(await generate(page, 300_000)).toBe('done');
    const lost = await page.evaluate(() =>
      (window as unknown as { latentStudioTestHook(a: string): Promise<{ done: boolean }> }).latentStudioTestHook(
        'lose-device',
      ),
    );
    expect(lost).toEqual({ done: true });
    expect(await generate(page, 300_000)).toBe('error');
    expect(await page.getByTestId('error').textContent()).toMatch(
      /The GPU device was lost \(.*\)\. The app restarts its GPU runtime/,
    );
    await page.screenshot({ path: `${SCREENSHOTS}/device-lost.png` });
    expect(await generate(page, 300_000)).toBe('done');
    expect(await page.getByTestId('status').textContent()).toMatch(/WebGPU/);
    await setSettings(page, { backend: 'wasm' });
  }, 900_000);

  it('keeps the settings, the start image and the mask across a reload', async () => {
    const { page } = session;
    // Its own result to start from, whatever the tests before it left.
    await setSettings(page, { backend: 'wasm', width: 64, height: 64, steps: 3, prompt: 'a flooble', seed: '1' });
    expect(await generate(page)).toBe('done');
    await page.getByTestId('mode-inpaint').click();
    await page.getByTestId('use-result').click();
    await expect.poll(() => page.getByTestId('init-image-info').textContent()).toMatch(/result \(seed 1\)/);
    const box = (await page.getByTestId('mask-canvas').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.5);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.8, box.y + box.height * 0.5, { steps: 5 });
    await page.mouse.up();
    const painted = () =>
      page.getByTestId('mask-canvas').evaluate((c: HTMLCanvasElement) => {
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
        return n;
      });
    const before = await painted();
    expect(before).toBeGreaterThan(50);
    // The mask is saved shortly after the last stroke; the editor says when it is.
    await expect.poll(() => page.getByTestId('mask-canvas').getAttribute('data-saved')).toBe('true');
    await page.reload();
    expect(await page.getByTestId('mode').getAttribute('data-mode')).toBe('inpaint');
    expect(await page.getByTestId('prompt').inputValue()).toBe('a flooble');
    await expect.poll(() => page.getByTestId('init-image-info').textContent()).toMatch(/result \(seed 1\)/);
    await expect.poll(painted).toBe(before);
    await page.getByTestId('mode-txt2img').click();
  });

  it('runs 20 generations in a row without memory growth', async () => {
    const { page } = session;
    await setSettings(page, { backend: 'wasm', width: 128, height: 128, steps: 4 });
    const samples: number[] = [];
    for (let i = 0; i < 20; i++) {
      await setSettings(page, { seed: String(100 + i) });
      expect(await generate(page)).toBe('done');
      if (i === 4 || i === 19) {
        await page.evaluate(() => (globalThis as unknown as { gc?: () => void }).gc?.());
        samples.push(await memoryBytes(session));
      }
    }
    console.log('memory after 5 and 20 generations (bytes):', samples);
    // Growth from generation 5 to 20 under 10 %: buffers and tensors are freed each run.
    expect(samples[1]! / samples[0]!).toBeLessThan(1.1);
    // Chrome measures a page with a worker at its next full GC, or after 60 s: two measurements.
  }, 300_000);

  it('made every request of the session to 127.0.0.1, with no CSP violation', async () => {
    // At least one generation of its own, whatever ran before.
    await setSettings(session.page, { backend: 'wasm', width: 64, height: 64, steps: 3 });
    expect(await generate(session.page)).toBe('done');
    const hosts = new Set(
      requests.map((u) => (u.startsWith('data:') || u.startsWith('blob:') ? 'local' : new URL(u).hostname)),
    );
    expect([...hosts].filter((h) => h !== '127.0.0.1' && h !== 'local')).toEqual([]);
    expect(requests.length).toBeGreaterThan(10);
    expect(violations, violations.join('\n')).toEqual([]);
  });
});
