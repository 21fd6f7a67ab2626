/**
 * The page: the store, the inference client over the worker, the actions made from them, and the
 * views. With `?bench` or `?testHooks` the worker is started for the dev kinds and the page's dev
 * hooks are loaded with import(); otherwise none of that code is fetched.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createActions } from './app/actions';
import { InferenceClient, DEFAULT_SILENCE_MS } from './client/inference-client';
import { ActionsContext } from './components/actions';
import { App } from './components/App';
import { hubUrl, stallTimeout } from './models/hub';
import { SITE_POLICY_META, siteRequiresSafetyChecker } from './models/safety-checker';
import { DEV_WORKER_NAME, devFlags } from './protocol/dev-flags';
import { useStore } from './store';
import './styles.css';

const query = new URLSearchParams(self.location.search);
const dev = devFlags(self.location.search);
const silenceMs = Number(query.get('workerTimeout'));

const client = InferenceClient.create(
  () =>
    new Worker(new URL('./worker/inference.worker.ts', import.meta.url), {
      type: 'module',
      name: dev ? DEV_WORKER_NAME : 'inference',
    }),
  silenceMs >= 500 ? silenceMs : DEFAULT_SILENCE_MS,
);

const actions = createActions({
  client,
  store: useStore,
  confirm: (question) => window.confirm(question),
  page: {
    origin: self.location.origin,
    hub: hubUrl,
    stallMs: stallTimeout(),
    wasmThreads: dev?.threads ?? null,
    persistStorage: () => void navigator.storage?.persist?.().catch(() => false),
    requireSafetyChecker: siteRequiresSafetyChecker(
      document.querySelector(`meta[name="${SITE_POLICY_META}"]`)?.getAttribute('content'),
    ),
  },
});

/**
 * `?model=<id>` opens the page on that catalog model; the parameter is then taken out of the
 * address, so a reload keeps what the person picks afterwards.
 */
function takeLinkedModel(): string | null {
  const id = query.get('model');
  if (id === null) return null;
  const clean = new URL(self.location.href);
  clean.searchParams.delete('model');
  history.replaceState(history.state, '', clean.href);
  return id;
}

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element.');
createRoot(root).render(
  <StrictMode>
    <ActionsContext.Provider value={actions}>
      <App />
    </ActionsContext.Provider>
  </StrictMode>,
);
void actions.start(takeLinkedModel());
if (dev) void import('./dev/page-hooks').then((m) => m.installDevHooks(dev, client, actions.session));
