import { useEffect } from 'react';
import { Header } from '../components/Header';
import { ImageInput } from '../components/ImageInput';
import { ModeTabs } from '../components/ModeTabs';
import { PromptForm } from '../components/PromptForm';
import { ResultView } from '../components/ResultView';
import { useStore } from '../store';
import { generate } from './controller';

export function App() {
  const theme = useStore((s) => s.theme);
  const mode = useStore((s) => s.mode);
  useEffect(() => {
    document.documentElement.dataset['theme'] = theme;
  }, [theme]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        void generate();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  return (
    <div className="app">
      <Header />
      <ModeTabs />
      <main className={`panes ${mode === 'txt2img' ? '' : 'with-input'}`} data-mode={mode}>
        <PromptForm />
        {mode === 'txt2img' ? null : <ImageInput mode={mode} />}
        <ResultView />
      </main>
    </div>
  );
}
