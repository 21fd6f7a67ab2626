/** Serves the built app (dist/) with `vite preview` on 127.0.0.1 for the end-to-end tests. */
import { existsSync } from 'node:fs';
import { preview, type PreviewServer } from 'vite';
import { MOCK_HUB_PATH, MOCK_HUB_PORT } from '../../helpers/mock-hub';

let server: PreviewServer | undefined;

export async function setup(): Promise<void> {
  if (process.env['E2E_BASE_URL']) return;
  if (!existsSync('dist/index.html')) throw new Error('dist/ is missing: run `npm run build` before the e2e tests.');
  server = await preview({
    preview: {
      host: '127.0.0.1',
      port: 4173,
      strictPort: true,
      // The tests' mock hub, reached through the app's own origin as a hub mirror would be.
      proxy: {
        [MOCK_HUB_PATH]: {
          target: `http://127.0.0.1:${MOCK_HUB_PORT}`,
          rewrite: (path: string) => path.slice(MOCK_HUB_PATH.length),
          // A body the hub cuts off must reach the browser cut off too, not as a hanging response.
          configure: (proxy) => {
            proxy.on('proxyRes', (proxyRes, _req, res) => {
              proxyRes.on('close', () => {
                if (!proxyRes.complete) res.destroy();
              });
            });
          },
        },
      },
    },
  });
}

export async function teardown(): Promise<void> {
  await server?.close();
}
