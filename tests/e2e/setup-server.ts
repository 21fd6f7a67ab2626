/** Serves the built app (dist/) with `vite preview` on 127.0.0.1 for the end-to-end tests. */
import { existsSync } from 'node:fs';
import { preview, type PreviewServer } from 'vite';

let server: PreviewServer | undefined;

export async function setup(): Promise<void> {
  if (process.env['E2E_BASE_URL']) return;
  if (!existsSync('dist/index.html')) throw new Error('dist/ is missing: run `npm run build` before the e2e tests.');
  server = await preview({ preview: { host: '127.0.0.1', port: 4173, strictPort: true } });
}

export async function teardown(): Promise<void> {
  await server?.close();
}
