import { useEffect, useState } from 'react';
import { schedulerLabel } from '../core/schedulers';
import { MODE_LABELS } from '../core/modes';
import { entryPng, type GalleryEntry } from '../storage/gallery-db';
import { useStore } from '../store';
import { useActions } from './actions';

function Thumbnail({ entry }: { entry: GalleryEntry }) {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    let alive = true;
    let made: string | null = null;
    void entryPng(entry.id).then((blob) => {
      if (!alive || !blob) return;
      made = URL.createObjectURL(blob);
      setUrl(made);
    });
    return () => {
      alive = false;
      if (made) URL.revokeObjectURL(made);
    };
  }, [entry.id]);
  return url ? <img src={url} alt={entry.params.prompt} /> : <div className="thumb-placeholder" />;
}

/** Every result with its parameters, kept in IndexedDB across reloads. */
export function Gallery() {
  const {
    gallery: { downloadEntry, loadGallery, openEntry, removeEntry, reuseSeed, reuseSettings },
  } = useActions();
  const entries = useStore((s) => s.gallery);
  useEffect(() => {
    void loadGallery();
  }, [loadGallery]);
  return (
    <section className="gallery" aria-label="Gallery" data-testid="gallery" data-count={entries.length}>
      <h2>History</h2>
      {entries.length === 0 ? <p className="hint">Every image you make is kept here, in this browser.</p> : null}
      <ul>
        {entries.map((e) => {
          const p = e.params;
          return (
            <li key={e.id} data-testid="gallery-item" data-seed={p.seed}>
              <button
                type="button"
                className="thumb-button"
                onClick={() => void openEntry(e)}
                title="Show as the result"
              >
                <Thumbnail entry={e} />
              </button>
              <div className="gallery-meta">
                <div className="gallery-prompt">{p.prompt || '(empty prompt)'}</div>
                <div className="hint">
                  {MODE_LABELS[p.mode]} · seed {p.seed} · CFG {p.guidanceScale} · {p.steps} ×{' '}
                  {schedulerLabel(p.scheduler)} · {p.width}×{p.height}
                  {p.strength !== undefined ? ` · strength ${p.strength}` : ''} · {p.model}
                </div>
                <div className="button-row">
                  <button type="button" data-testid="gallery-reuse" onClick={() => reuseSettings(e)}>
                    Reuse settings
                  </button>
                  <button type="button" data-testid="gallery-seed" onClick={() => reuseSeed(e)}>
                    Reuse seed
                  </button>
                  <button type="button" data-testid="gallery-download" onClick={() => void downloadEntry(e)}>
                    Download
                  </button>
                  <button type="button" data-testid="gallery-delete" onClick={() => void removeEntry(e)}>
                    Delete
                  </button>
                </div>
              </div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
