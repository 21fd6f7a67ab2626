/**
 * Where model files may come from, in two layers.
 *
 * The page's Content-Security-Policy (connect-src, written from `CONNECT_SOURCES`) lets the page
 * reach what a person may choose: any https origin (a hub mirror, their own server) and plain http
 * only on this machine (a local server on any port). Scripts stay this site's own.
 *
 * Each model then has its own hosts (`modelHosts`, and the origin of a folder URL the person typed),
 * and the worker checks every download and every redirect against them: a model's files come only
 * from where the person chose to load it.
 */

/** CSP sources for connect-src besides 'self' and blob: (see above). */
// CSP has no syntax for IPv6 literals: [::1] is not among them (Chromium reports it invalid).
export const CONNECT_SOURCES = ['https:', 'http://localhost:*', 'http://127.0.0.1:*'] as const;

const LOOPBACK = new Set(['localhost', '127.0.0.1']);

/**
 * Whether the page may connect to `url` at all (its CSP), and if not, why in words: the same rule
 * the browser applies, said before the browser refuses with "Failed to fetch".
 */
export function connectRefusal(url: string, self: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `"${url}" is not a URL.`;
  }
  if (parsed.origin === self || parsed.protocol === 'blob:' || parsed.protocol === 'https:') return null;
  if (parsed.protocol === 'http:' && LOOPBACK.has(parsed.hostname)) return null;
  if (parsed.protocol === 'http:') {
    return `${parsed.origin} is plain http on another machine, which this app does not load models from (its files could be changed on the way). Serve it over https, or from this machine (http://localhost or http://127.0.0.1, any port).`;
  }
  return `${parsed.protocol} addresses cannot serve models: use an https (or local http) folder URL.`;
}

/** CSP source expressions for a hub: its origin, and for huggingface.co its CDN hosts. */
export function modelHosts(hubUrl: string): string[] {
  const hub = new URL(hubUrl).origin;
  return [hub, ...(hub === 'https://huggingface.co' ? ['https://*.huggingface.co', 'https://*.hf.co'] : [])];
}

/** Whether `url` is on this site (`self`, an origin), a blob: of this page, or matches one of `hosts`. */
export function isAllowedHost(url: string, hosts: readonly string[], self: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol === 'blob:') return true;
  if (parsed.origin === self) return true;
  return hosts.some((h) => {
    const wild = /^(https?:)\/\/\*\.(.+)$/.exec(h);
    if (!wild) return parsed.origin === h;
    return parsed.protocol === wild[1] && parsed.hostname.endsWith(`.${wild[2]}`);
  });
}

/** How the page says a host is not allowed, naming what is. */
export function notAllowedMessage(url: string, hosts: readonly string[]): string {
  const origin = (() => {
    try {
      return new URL(url).origin;
    } catch {
      return url;
    }
  })();
  return `${origin} is not one of the hosts this app loads models from (this site, ${hosts.join(', ')}): a model's files come only from where it was added (its hub, or its folder URL's origin).`;
}
