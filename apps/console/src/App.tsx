import { useCallback, useEffect, useRef, useState } from 'react';
import { api, call, onSessionExpired, setCsrfToken } from './api';
import { connectLive, disconnectLive, onLiveSessionEnded } from './live';
import { rememberPassphrase } from './passphrase';
import { href, useRoute } from './router';
import { AddDevicePage } from './pages/AddDevicePage';
import { AppPage } from './pages/AppPage';
import { AppsPage } from './pages/AppsPage';
import { CatalogPage } from './pages/CatalogPage';
import { DevicePage } from './pages/DevicePage';
import { DevicesPage } from './pages/DevicesPage';
import { InstallPage } from './pages/InstallPage';
import { LoginPage, SetupPage } from './pages/SignInPages';
import { PassphrasePage } from './pages/PassphrasePage';
import { SettingsPage } from './pages/SettingsPage';

type Session = { state: 'loading' } | { state: 'setup' } | { state: 'signed-out' } | { state: 'signed-in'; username: string };

const NAV: Array<[string, string]> = [
  ['devices', 'Devices'],
  ['catalog', 'Catalog'],
  ['apps', 'Apps'],
  ['passphrase', 'Passphrase'],
  ['settings', 'Settings'],
];

export function App() {
  const [session, setSession] = useState<Session>({ state: 'loading' });
  /** The session ended under an open page: sign in again over it, so nothing typed is lost. */
  const [expired, setExpired] = useState(false);
  const route = useRoute();
  const firstRoute = useRef(true);
  const routeKey = route.join('/');

  // A new page moves focus to its content, as a page load would for a screen reader or keyboard user.
  useEffect(() => {
    if (firstRoute.current) return void (firstRoute.current = false);
    document.getElementById('main')?.focus();
  }, [routeKey]);

  const refresh = useCallback(async () => {
    const status = await call(api.GET('/api/session'));
    setCsrfToken(status.csrfToken);
    setSession(
      status.setupRequired
        ? { state: 'setup' }
        : status.username
          ? { state: 'signed-in', username: status.username }
          : { state: 'signed-out' },
    );
  }, []);

  useEffect(() => {
    refresh().catch(() => setSession({ state: 'signed-out' }));
    const expire = () => setExpired(true);
    const stops = [onSessionExpired(expire), onLiveSessionEnded(expire)];
    return () => stops.forEach((stop) => stop());
  }, [refresh]);

  useEffect(() => {
    if (session.state !== 'signed-in' || expired) return;
    connectLive();
    return () => disconnectLive();
  }, [session.state, expired]);

  const signedIn = (username: string, csrfToken: string | null) => {
    setCsrfToken(csrfToken);
    setExpired(false);
    setSession({ state: 'signed-in', username });
  };

  if (session.state === 'loading') return <p className="loading">Loading…</p>;
  if (session.state === 'setup') return <SetupPage onDone={signedIn} />;
  if (session.state === 'signed-out') return <LoginPage onDone={signedIn} />;

  const signOut = async () => {
    await api.DELETE('/api/session');
    rememberPassphrase(null);
    setCsrfToken(null);
    disconnectLive();
    setSession({ state: 'signed-out' });
  };

  const [section = 'devices', id, sub] = route;
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Mosaic</span>
        <nav aria-label="Main">
          <ul>
            {NAV.map(([path, label]) => (
              <li key={path}>
                <a
                  href={href(path)}
                  aria-current={section === path || (path === 'devices' && section === 'add-device') ? 'page' : undefined}
                >
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span className="who">
          {session.username}{' '}
          <button type="button" className="quiet" onClick={signOut}>
            Sign out
          </button>
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        {section === 'devices' && !id && <DevicesPage />}
        {section === 'devices' && id && <DevicePage id={id} />}
        {section === 'add-device' && <AddDevicePage />}
        {section === 'catalog' && !id && <CatalogPage />}
        {section === 'catalog' && id && <InstallPage app={id} preselect={sub} />}
        {section === 'apps' && !id && <AppsPage />}
        {section === 'apps' && id && <AppPage instance={id} />}
        {section === 'passphrase' && <PassphrasePage />}
        {section === 'settings' && <SettingsPage />}
      </main>
      {expired && <LoginPage expired onDone={signedIn} />}
    </>
  );
}
