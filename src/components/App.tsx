import { useEffect } from 'react';
import { imageMode } from '../core/modes';
import { ActionBar } from './ActionBar';
import { CompareGrid } from './CompareGrid';
import { ExplorePanel } from './ExplorePanel';
import { Gallery } from './Gallery';
import { Header } from './Header';
import { ImageInput } from './ImageInput';
import { ModelManager } from './ModelManager';
import { ModeTabs } from './ModeTabs';
import { PromptForm } from './PromptForm';
import { ResultView } from './ResultView';
import { useStore } from '../store';
import { useActions } from './actions';

function Notice() {
  const notice = useStore((s) => s.notice);
  if (!notice) return null;
  return (
    <div className="app-notice" role="status" data-testid="notice">
      {notice}
      <button type="button" className="ghost" aria-label="Dismiss" onClick={() => useStore.getState().say(null)}>
        ×
      </button>
    </div>
  );
}

export function App() {
  const {
    gallery: { restoreFromFile },
    images: { restoreImageSession },
    models: { openDroppedModelFile },
    run: { generate },
  } = useActions();
  const theme = useStore((s) => s.theme);
  const mode = useStore((s) => s.mode);
  useEffect(() => {
    document.documentElement.dataset['theme'] = theme;
  }, [theme]);
  useEffect(() => {
    void restoreImageSession();
  }, [restoreImageSession]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        void generate();
      }
    };
    // A PNG dropped anywhere but on the start-image panel restores the settings it carries.
    const onDragOver = (e: DragEvent) => e.preventDefault();
    const onDrop = (e: DragEvent) => {
      e.preventDefault();
      const file = e.dataTransfer?.files[0];
      // A .safetensors file dropped on the page is a checkpoint or a LoRA (its header says which);
      // a PNG restores the settings it carries.
      if (file && /\.(safetensors|ckpt|pt|pth|bin)$/i.test(file.name)) void openDroppedModelFile(file);
      else if (file) void restoreFromFile(file);
    };
    window.addEventListener('keydown', onKey);
    window.addEventListener('dragover', onDragOver);
    window.addEventListener('drop', onDrop);
    return () => {
      window.removeEventListener('keydown', onKey);
      window.removeEventListener('dragover', onDragOver);
      window.removeEventListener('drop', onDrop);
    };
  }, [generate, openDroppedModelFile, restoreFromFile]);
  const startsFrom = imageMode(mode);
  const middle = startsFrom ? <ImageInput mode={startsFrom} /> : mode === 'explore' ? <ExplorePanel /> : null;
  return (
    <div className="app">
      <Header />
      <ModelManager />
      <ModeTabs />
      <Notice />
      <main className={`panes ${middle ? 'with-input' : ''}`} data-mode={mode}>
        <div className="left">
          <PromptForm />
          <ActionBar />
        </div>
        {middle}
        {mode === 'compare' ? <CompareGrid /> : <ResultView />}
      </main>
      <Gallery />
    </div>
  );
}
