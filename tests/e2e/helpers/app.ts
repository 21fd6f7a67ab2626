/** Small steps a person takes in the app, for the e2e tests. */
import type { Page } from 'playwright-core';

export interface Settings {
  prompt?: string;
  negativePrompt?: string;
  guidance?: number;
  steps?: number;
  seed?: string;
  width?: number;
  height?: number;
  scheduler?: string;
  backend?: 'webgpu' | 'wasm';
}

/** Small and quick on WASM: what the suites that test the app rather than a model start from. */
export const SMALL_WASM: Settings = {
  backend: 'wasm',
  width: 64,
  height: 64,
  steps: 3,
  prompt: 'a flooble',
  seed: '1',
};

export async function setSettings(page: Page, s: Settings): Promise<void> {
  if (s.backend) await page.getByTestId('backend').selectOption(s.backend);
  if (s.prompt !== undefined) await page.getByTestId('prompt').fill(s.prompt);
  if (s.negativePrompt !== undefined) await page.getByTestId('negative-prompt').fill(s.negativePrompt);
  if (s.guidance !== undefined) await page.getByTestId('guidance-scale').fill(String(s.guidance));
  if (s.steps !== undefined) await page.getByTestId('steps').fill(String(s.steps));
  if (s.seed !== undefined) await page.getByTestId('seed').fill(s.seed);
  if (s.width !== undefined) await page.getByTestId('width').fill(String(s.width));
  if (s.height !== undefined) await page.getByTestId('height').fill(String(s.height));
  if (s.scheduler !== undefined) await page.getByTestId('scheduler').selectOption(s.scheduler);
}

/** Drops a PNG on the page as a person dragging a file from their desktop would. */
export async function dropPng(page: Page, bytes: Uint8Array, name: string): Promise<void> {
  await page.evaluate(
    ({ data, name }) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(data)], name, { type: 'image/png' }));
      document.querySelector('main')!.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true }));
    },
    { data: Array.from(bytes), name },
  );
}

export async function statusState(page: Page): Promise<string | null> {
  return page.getByTestId('status').getAttribute('data-state');
}

/** Clicks Generate and waits for done, error or cancelled. */
export async function generate(page: Page, timeout = 180_000, start?: () => Promise<void>): Promise<string> {
  const run = Number(await page.getByTestId('status').getAttribute('data-run'));
  await (start ? start() : page.getByTestId('generate').click());
  await waitForOutcome(page, run, timeout);
  const state = (await statusState(page)) ?? '';
  // Say why in the test log, so a failed expectation on 'done' is easy to read.
  if (state === 'error') console.warn('generation error:', await page.getByTestId('error').textContent());
  return state;
}

/** Waits until the run after `run` has finished (done, error or cancelled). */
export async function waitForOutcome(page: Page, run: number, timeout = 180_000): Promise<void> {
  await page.waitForFunction(
    (previous) => {
      const status = document.querySelector('[data-testid=status]');
      return (
        Number(status?.getAttribute('data-run')) > previous &&
        ['done', 'error', 'cancelled'].includes(status?.getAttribute('data-state') ?? '')
      );
    },
    run,
    { timeout },
  );
}

/** The result canvas's RGBA bytes. */
export async function canvasPixels(page: Page): Promise<{ width: number; height: number; pixels: Buffer }> {
  const { width, height, base64 } = await page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>('[data-testid=result-canvas]')!;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let binary = '';
    for (let i = 0; i < data.length; i += 0x8000) binary += String.fromCharCode(...data.subarray(i, i + 0x8000));
    return { width: canvas.width, height: canvas.height, base64: btoa(binary) };
  });
  return { width, height, pixels: Buffer.from(base64, 'base64') };
}

export function rgbStd(pixels: Uint8Array): number {
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    for (let c = 0; c < 3; c++) {
      sum += pixels[i + c]!;
      sumSq += pixels[i + c]! ** 2;
      n++;
    }
  }
  return Math.sqrt(sumSq / n - (sum / n) ** 2);
}

/** Mean and max absolute difference over RGB, in 0..255 units. */
export function pixelDiff(a: Uint8Array, b: Uint8Array): { mean: number; max: number } {
  if (a.length !== b.length) return { mean: Number.POSITIVE_INFINITY, max: Number.POSITIVE_INFINITY };
  let total = 0;
  let max = 0;
  let n = 0;
  for (let i = 0; i < a.length; i += 4) {
    for (let c = 0; c < 3; c++) {
      const d = Math.abs(a[i + c]! - b[i + c]!);
      total += d;
      max = Math.max(max, d);
      n++;
    }
  }
  return { mean: total / n, max };
}

/** Sets a range input the way a drag would (React listens for the native input event). */
export async function setRange(page: Page, testId: string, value: number): Promise<void> {
  await page.getByTestId(testId).evaluate((el, v) => {
    const input = el as HTMLInputElement;
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(input, String(v));
    input.dispatchEvent(new Event('input', { bubbles: true }));
  }, value);
}

/** RGBA bytes of any canvas on the page, by test id. */
export async function canvasData(
  page: Page,
  testId: string,
): Promise<{ width: number; height: number; pixels: Buffer }> {
  const { width, height, base64 } = await page.getByTestId(testId).evaluate((el) => {
    const canvas = el as HTMLCanvasElement;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let binary = '';
    for (let i = 0; i < data.length; i += 0x8000) binary += String.fromCharCode(...data.subarray(i, i + 0x8000));
    return { width: canvas.width, height: canvas.height, base64: btoa(binary) };
  });
  return { width, height, pixels: Buffer.from(base64, 'base64') };
}

/** Drags the mouse across a canvas between two points given as fractions of its displayed size. */
export async function stroke(
  page: Page,
  testId: string,
  from: [number, number],
  to: [number, number],
  steps = 8,
): Promise<void> {
  await page.getByTestId(testId).scrollIntoViewIfNeeded();
  const box = (await page.getByTestId(testId).boundingBox())!;
  const at = ([fx, fy]: [number, number]) => [box.x + fx * box.width, box.y + fy * box.height] as const;
  await page.mouse.move(...at(from));
  await page.mouse.down();
  await page.mouse.move(...at(to), { steps });
  await page.mouse.up();
}

/** Drops a file on the page as a person dragging it from the desktop would. */
export async function dropFile(page: Page, path: string): Promise<void> {
  await page.evaluate(() => {
    const input = document.createElement('input');
    input.type = 'file';
    input.id = 'e2e-drop-source';
    input.style.display = 'none';
    document.body.appendChild(input);
  });
  await page.locator('#e2e-drop-source').setInputFiles(path);
  await page.evaluate(() => {
    const input = document.getElementById('e2e-drop-source') as HTMLInputElement;
    const data = new DataTransfer();
    data.items.add(input.files![0]!);
    document.querySelector('main')!.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true }));
    input.remove();
  });
}
