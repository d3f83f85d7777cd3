import { ChatClient, IndexedDbStore } from '@natter/client';
import { NatterProvider } from '@natter/react';
import { StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { SignIn } from './SignIn.js';

// One client for the page: the API is on this origin (Vite forwards /v1 to the server in development).
// IndexedDB keeps the cache and the outbox, so messages written offline survive a reload.
const client = new ChatClient({ url: location.origin, store: new IndexedDbStore() });

function Root() {
  const [signedIn, setSignedIn] = useState(false);
  if (!signedIn) return <SignIn client={client} onSignedIn={() => setSignedIn(true)} />;
  return (
    <NatterProvider client={client}>
      <App />
    </NatterProvider>
  );
}

const root = document.getElementById('root');
if (root)
  createRoot(root).render(
    <StrictMode>
      <Root />
    </StrictMode>,
  );
