/**
 * The natter web demo: a chat app on `@natter/react` (provider, hooks and components) and the public
 * `@natter/client` API, built with Vite and served by the reference server at `/`.
 */
import './styles.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { registerOfflineShell } from './offline-shell.js';
import { Root } from './Root.js';

const worker = registerOfflineShell();
const element = document.getElementById('app');
if (element)
  createRoot(element).render(
    <StrictMode>
      <Root worker={worker} />
    </StrictMode>,
  );
