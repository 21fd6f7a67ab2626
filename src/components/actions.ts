/** The app's actions as components reach them: made once in main.tsx, handed down by context. */
import { createContext, useContext } from 'react';
import type { AppActions } from '../app/actions';

export const ActionsContext = createContext<AppActions | null>(null);

export function useActions(): AppActions {
  const actions = useContext(ActionsContext);
  if (!actions) throw new Error('useActions() needs an ActionsContext provider (see main.tsx).');
  return actions;
}
