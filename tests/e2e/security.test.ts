/**
 * Security in the browser: the Content-Security-Policy, every request to this machine only, model
 * URLs the policy refuses, and a hub link that would re-point a model.
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NETWORKS_DIR } from '../helpers/fixtures';
import { generate, setSettings } from './helpers/app';
import { BASE_URL, openApp, SCREENSHOTS, type Session } from './helpers/browser';
import { HUB_URL, useMockHub } from './helpers/hub';

describe('security', () => {
  useMockHub(() => ({ 'fixtures/sd1': `${NETWORKS_DIR}sd1` }));
  let session: Session;
  const requests: string[] = [];
  const violations: string[] = [];

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    session = await openApp();
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
    await page.getByTestId('models-panel').locator('summary').click();
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

  it('a model URL the policy refuses is refused in words, and an unreachable one is named', async () => {
    const { page } = session;
    await page.getByTestId('custom-model-input').fill('http://192.0.2.7/some-model/');
    await page.getByTestId('load-model').click();
    await expect
      .poll(() => page.getByTestId('custom-model-error').textContent())
      .toMatch(/^http:\/\/192\.0\.2\.7 is plain http on another machine, which this app does not load models from/);
    // A local port is allowed (a person's own server); with nothing listening the message says so.
    await page.getByTestId('custom-model-input').fill('http://127.0.0.1:4199/some-model/');
    await page.getByTestId('load-model').click();
    await expect
      .poll(() => page.getByTestId('custom-model-error').textContent())
      .toMatch(/^Could not reach 127\.0\.0\.1:4199: the connection failed/);
  });

  it('a link whose ?hub= differs from the hub a model was added from asks before re-pointing it', async () => {
    const hubA = HUB_URL;
    const hubB = `${BASE_URL.replace(/\/$/, '')}/other-hub`;
    const a = await openApp({ url: `${BASE_URL}?hub=${encodeURIComponent(hubA)}` });
    try {
      await a.page.getByTestId('models-panel').locator('summary').click();
      await a.page.getByTestId('custom-model-input').fill('fixtures/sd1');
      await a.page.getByTestId('load-model').click();
      await expect.poll(() => a.page.getByTestId('model').inputValue()).toBe('hub:fixtures/sd1@main');
      await setSettings(a.page, { backend: 'wasm', width: 64, height: 64, steps: 2 });
      expect(await generate(a.page)).toBe('done');
      // The same browser profile, opened through a link that names another hub.
      await a.page.goto(`${BASE_URL}?hub=${encodeURIComponent(hubB)}`);
      const asked: string[] = [];
      a.page.on('dialog', (d) => {
        asked.push(d.message());
        void d.dismiss();
      });
      await expect.poll(() => a.page.getByTestId('model').inputValue()).toBe('hub:fixtures/sd1@main');
      expect(await generate(a.page)).toBe('done');
      expect(asked).toHaveLength(1);
      expect(asked[0]).toContain(`fixtures/sd1 was added from ${hubA}, but this page's hub is now ${hubB}`);
    } finally {
      await a.close();
    }
  });

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
