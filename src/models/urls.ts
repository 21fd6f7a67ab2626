/** The URL of a model's file: on a hub (`{hub}/{repo}/resolve/{revision}/{path}`), under a folder URL, or a picked file's blob: URL. */
import type { ModelSource } from './manifest';

export const DEFAULT_HUB = 'https://huggingface.co';

export function hubFileUrl(hub: string, repo: string, revision: string, path: string): string {
  return `${hub.replace(/\/+$/, '')}/${repo}/resolve/${encodeURIComponent(revision)}/${path
    .split('/')
    .map(encodeURIComponent)
    .join('/')}`;
}

/** The URL of one file of a model. */
export function fileUrl(source: ModelSource, hub: string, path: string): string {
  if (source.kind === 'hub') return hubFileUrl(hub, source.repo, source.revision, path);
  if (source.kind === 'local') return source.urls[path] ?? '';
  return new URL(path, source.baseUrl.endsWith('/') ? source.baseUrl : `${source.baseUrl}/`).href;
}
