/** What a person types to add a model: a hub repo id or a folder URL. */
import { ValidationError } from '../core/errors';
import type { ModelSource } from './manifest';

/** A repo id ("owner/name", optionally "@revision") or an http(s) URL, as a person types it. */
export function parseModelInput(text: string): Extract<ModelSource, { kind: 'hub' | 'url' }> {
  const value = text.trim();
  if (/^https?:\/\//i.test(value)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new ValidationError(`"${value}" is not a valid URL.`, 'customModel');
    }
    // A hub page URL (…/owner/name or …/owner/name/tree/rev) means that repo on that hub.
    return { kind: 'url', baseUrl: url.href.endsWith('/') ? url.href : `${url.href}/` };
  }
  const m = /^([\w.-]+)\/([\w.-]+)(?:@([\w./-]+))?$/.exec(value);
  if (!m) {
    throw new ValidationError(
      'Enter a Hugging Face repo id like "owner/name" (optionally "owner/name@revision") or a URL to a diffusers ONNX folder.',
      'customModel',
    );
  }
  return { kind: 'hub', repo: `${m[1]}/${m[2]}`, revision: m[3] ?? 'main' };
}
