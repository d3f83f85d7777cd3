/**
 * The natter web demo: a chat app on `@natter/react` (provider, hooks and components) and the public
 * `@natter/client` API, built with Vite and served by the reference server at `/`.
 */
import './styles.css';
import { NATTER_CSS } from '@natter/react';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { registerOfflineShell } from './offline-shell.js';
import { Root } from './Root.js';

// The reference server's Content-Security-Policy allows only the page's own style sheets, so the kit's
// `<style>` element would be refused: its sheet is adopted through the CSSOM instead (<ChatTheme unstyled>).
const kitSheet = new CSSStyleSheet();
kitSheet.replaceSync(NATTER_CSS);
document.adoptedStyleSheets = [...document.adoptedStyleSheets, kitSheet];

const worker = registerOfflineShell();
const element = document.getElementById('app');
if (element)
  createRoot(element).render(
    <StrictMode>
      <Root worker={worker} />
    </StrictMode>,
  );
