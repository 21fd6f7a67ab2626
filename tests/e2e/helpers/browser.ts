/** Headless Debian Chromium driven by playwright-core, with WebGPU on (SwiftShader where there is no GPU). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const BASE_URL = process.env['E2E_BASE_URL'] ?? 'http://127.0.0.1:4173/';
export const SCREENSHOTS = join(process.cwd(), 'test-results', 'screenshots');

export interface Session {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/**
 * Opens the app in a fresh profile. `model` is put in the address (`?model=`): the tests that check
 * exact ONNX outputs open on the random-weight tiny model; `null` keeps the page's own default.
 */
export async function openApp(
  options: { url?: string; args?: string[]; model?: string | null } = {},
): Promise<Session> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'latent-studio-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--enable-unsafe-webgpu',
      '--no-sandbox',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      ...(options.args ?? []),
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const url = new URL(options.url ?? BASE_URL);
  const model = options.model === undefined ? 'tiny-sd' : options.model;
  if (model !== null && !url.searchParams.has('model')) url.searchParams.set('model', model);
  await page.goto(url.href);
  return {
    browser: context.browser()!,
    context,
    page,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
