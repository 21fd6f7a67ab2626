/** Where hub models come from: `?hub=` in the page URL, else the build's VITE_HUB_URL, else huggingface.co. */
import { DEFAULT_HUB } from './urls';

export function hubUrl(): string {
  const fromQuery = new URLSearchParams(self.location.search).get('hub');
  const configured = fromQuery ?? (import.meta.env['VITE_HUB_URL'] as string | undefined) ?? DEFAULT_HUB;
  try {
    const url = new URL(configured);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return DEFAULT_HUB;
    return url.href.replace(/\/+$/, '');
  } catch {
    return DEFAULT_HUB;
  }
}

/** `?stall=ms`: how long a download may go without data before it fails (for slow links, and for tests). */
export function stallTimeout(): number | null {
  const value = Number(new URLSearchParams(self.location.search).get('stall'));
  return Number.isFinite(value) && value >= 500 ? value : null;
}
