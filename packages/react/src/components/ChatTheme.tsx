import type { ReactNode } from 'react';
import { NATTER_CSS } from './theme-css.js';

/** Props of {@link ChatTheme}. */
export interface ChatThemeProps {
  /** `light`, `dark`, or `auto` to follow the system. @default 'auto' */
  theme?: 'light' | 'dark' | 'auto';
  /** Render no stylesheet: the components' markup and class names only, for the app's own CSS. @default false */
  unstyled?: boolean;
  /** Extra class names of the root element. */
  className?: string;
  children?: ReactNode;
}

/**
 * The root of the kit's components: the `natter` class that scopes the `--natter-*` variables, the theme,
 * and (unless `unstyled`) the stylesheet.
 */
export function ChatTheme({
  theme = 'auto',
  unstyled = false,
  className,
  children,
}: ChatThemeProps): ReactNode {
  return (
    <div className={className ? `natter ${className}` : 'natter'} data-natter-theme={theme}>
      {unstyled ? null : <style>{NATTER_CSS}</style>}
      {children}
    </div>
  );
}
