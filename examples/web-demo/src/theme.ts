/** The colour theme the user picked (auto follows the system), kept in localStorage for every account. */
import { useEffect, useState } from 'react';

/** A theme choice. */
export type ThemeChoice = 'auto' | 'light' | 'dark';

const KEY = 'natter-demo.theme';

function saved(): ThemeChoice {
  const value = localStorage.getItem(KEY);
  return value === 'light' || value === 'dark' ? value : 'auto';
}

/** The theme and a setter that saves it; the page's `color-scheme` follows, for native controls. */
export function useTheme(): [ThemeChoice, (theme: ThemeChoice) => void] {
  const [theme, setTheme] = useState<ThemeChoice>(saved);
  useEffect(() => {
    document.documentElement.style.colorScheme = theme === 'auto' ? 'light dark' : theme;
  }, [theme]);
  return [
    theme,
    (next) => {
      localStorage.setItem(KEY, next);
      setTheme(next);
    },
  ];
}
