/**
 * Why a request for a model's file got no answer or a refusal, in words that name the host: the
 * browser's own "Failed to fetch" says neither where nor why.
 */

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** The browser says it has no network (in a page or a worker; unknown elsewhere). */
export function seemsOffline(): boolean {
  return typeof navigator !== 'undefined' && navigator.onLine === false;
}

/** A request that got no answer at all. */
export function unreachableMessage(url: string): string {
  const host = hostOf(url);
  return seemsOffline()
    ? `Could not reach ${host} — you seem to be offline.`
    : `Could not reach ${host}: the connection failed (the host may be down, or blocked by the network or a browser extension).`;
}

/** A request the host answered with an error: its own status, as it gave it. */
export function hostAnswerMessage(url: string, response: { status: number; statusText: string }, what: string): string {
  const status = response.statusText ? `${response.status} ${response.statusText}` : String(response.status);
  return `${hostOf(url)} answered ${status} for ${what}.`;
}
