/** Chooses between the sign-in screen and the signed-in app, and follows the session across tabs. */
import { ChatTheme } from '@natter/react';
import type { ReactNode } from 'react';
import { useEffect, useState } from 'react';
import { savedAccounts, sessionKey } from './accounts.js';
import { ChatApp } from './chat/ChatApp.js';
import { LoginScreen } from './login/LoginScreen.js';
import { bootScreen, ended, type Navigate, resume, type Screen, signIn } from './session.js';
import { useTheme } from './theme.js';

export interface RootProps {
  /** The service worker's registration (production builds), for notifications and push. */
  worker: Promise<ServiceWorkerRegistration | undefined>;
}

let navigateNow: Navigate = () => {};
const navigate: Navigate = (next) => navigateNow(next);
// Once per page, not in a state initializer (StrictMode runs those twice in development: two clients).
const initialScreen = bootScreen(navigate);

/** The app's root. */
export function Root({ worker }: RootProps): ReactNode {
  const [screen, setScreen] = useState<Screen>(initialScreen);
  navigateNow = setScreen;
  const [theme, setTheme] = useTheme();

  // Another tab logged this account out: follow it.
  useEffect(() => {
    const onStorage = (event: StorageEvent) => {
      if (screen.kind !== 'signed-in') return;
      if (event.key !== sessionKey(screen.session.user.username) || event.newValue !== null) return;
      ended(navigate, 'You logged out in another tab.');
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, [screen]);

  useEffect(() => {
    document.title =
      screen.kind === 'signed-in'
        ? `${screen.session.user.displayName} · natter demo`
        : 'Sign in · natter demo';
  }, [screen]);

  return (
    <ChatTheme theme={theme} className="demo-root" unstyled>
      {screen.kind === 'signed-out' ? (
        <LoginScreen
          saved={savedAccounts()}
          notice={screen.notice}
          onResume={(session) => navigate(resume(session, navigate))}
          onSignIn={(mode, username, password, displayName) =>
            signIn(mode, username, password, displayName, navigate)
          }
        />
      ) : (
        <ChatApp
          key={screen.session.user.id}
          screen={screen}
          navigate={navigate}
          worker={worker}
          theme={theme}
          onTheme={setTheme}
        />
      )}
    </ChatTheme>
  );
}
