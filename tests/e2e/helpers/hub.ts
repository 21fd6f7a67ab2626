/**
 * The mock hub as an e2e suite uses it: one per suite, serving its repos (repo id → folder) on the
 * port the e2e server proxies `/mock-hub/` to, started before the suite's own set-up and stopped
 * after its tests. The app reaches it through its own origin, as a hub mirror.
 */
import { afterAll, beforeAll } from 'vitest';
import { MOCK_HUB_PATH, MOCK_HUB_PORT, startMockHub, type Fault, type MockHub } from '../../helpers/mock-hub';
import { BASE_URL } from './browser';

/** The mock hub's address as the page sees it (its own origin). */
export const HUB_URL = `${BASE_URL.replace(/\/$/, '')}${MOCK_HUB_PATH}`;

/** A repo's files as a plain folder URL on the mock hub's file host. */
export const hubFolderUrl = (repo: string): string => `${HUB_URL}/cdn/${repo}/`;

export interface SuiteHub {
  /** Paths requested since the hub (re)started, after redirects, in order. */
  readonly requests: string[];
  setFault(pathSuffix: string, fault: Fault | null): void;
  clearFaults(): void;
  /** The hub goes away (offline checks); `start` serves the same repos again. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** `repos` is called when the hub starts, so a suite can write the folders it serves first. */
export function useMockHub(repos: () => Record<string, string>): SuiteHub {
  let hub: MockHub | null = null;
  let served: Record<string, string> | null = null;
  const running = (): MockHub => {
    if (!hub) throw new Error('The mock hub is not running.');
    return hub;
  };
  const suiteHub: SuiteHub = {
    get requests() {
      return running().requests;
    },
    setFault: (path, fault) => running().setFault(path, fault),
    clearFaults: () => running().clearFaults(),
    async stop() {
      await hub?.stop();
      hub = null;
    },
    async start() {
      served ??= repos();
      hub ??= await startMockHub(served, MOCK_HUB_PORT, MOCK_HUB_PATH);
    },
  };
  beforeAll(() => suiteHub.start());
  afterAll(() => suiteHub.stop());
  return suiteHub;
}
