/**
 * The one list of hosts models may come from: this site, the configured hub and the hub's file
 * CDNs. The page's Content-Security-Policy (connect-src) is written from it, the page checks a
 * custom model's URL against it, and the worker checks every download and where it redirected.
 */

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
  return `${origin} is not one of the hosts this app loads models from (this site, ${hosts.join(', ')}): its Content-Security-Policy refuses the connection. Serve the model from this site or from the hub, or set the hub with ?hub= or VITE_HUB_URL.`;
}
