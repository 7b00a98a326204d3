import type { ReactNode } from 'react';
import { useEffect, useRef } from 'react';
import { AlertRulesPage } from './admin/alert-rules-page';
import { SettingsPage } from './admin/settings-page';
import { SubscriptionsPage } from './admin/subscriptions-page';
import { TokensPage } from './admin/tokens-page';
import { UsersPage } from './admin/users-page';
import { AuditPage } from './audit/audit-page';
import { useMe, useSession } from './auth/session';
import { SignInPage } from './auth/sign-in-page';
import { messageOf } from './lib/api';
import { Link, navigate, useLocation } from './lib/router';
import type { Role } from './lib/types';
import { Notice } from './ui/notice';
import { Page } from './ui/page';

interface Route {
  path: string;
  label: string;
  roles: readonly Role[] | 'all';
  page: () => ReactNode;
}

const ROUTES: Route[] = [
  { path: '/audit', label: 'Audit', roles: 'all', page: () => <AuditPage /> },
  { path: '/alert-rules', label: 'Alert rules', roles: 'all', page: () => <AlertRulesPage /> },
  { path: '/subscriptions', label: 'Subscriptions', roles: 'all', page: () => <SubscriptionsPage /> },
  { path: '/users', label: 'Users', roles: ['admin'], page: () => <UsersPage /> },
  { path: '/tokens', label: 'API tokens', roles: ['admin'], page: () => <TokensPage /> },
  { path: '/settings', label: 'Settings', roles: ['admin'], page: () => <SettingsPage /> },
];

const allowed = (route: Route, role: Role): boolean => route.roles === 'all' || route.roles.includes(role);

function Shell() {
  const me = useMe();
  const { signOut } = useSession();
  const { pathname } = useLocation();
  const main = useRef<HTMLElement>(null);
  const route = ROUTES.find((r) => r.path === pathname);
  const previous = useRef(pathname);

  useEffect(() => {
    if (pathname === '/') navigate('/audit', { replace: true });
  }, [pathname]);

  // After client-side navigation, move focus to the new page so keyboard and screen-reader
  // users start at its heading instead of a stale link.
  useEffect(() => {
    if (previous.current !== pathname) main.current?.focus();
    previous.current = pathname;
  }, [pathname]);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/audit" className="brand" aria-label="Trailmark home">
          <span className="brand-mark" aria-hidden="true">
            ◆
          </span>{' '}
          Trailmark
        </Link>
        <nav aria-label="Main" className="main-nav">
          <ul>
            {ROUTES.filter((r) => allowed(r, me.role)).map((r) => (
              <li key={r.path}>
                <Link to={r.path} aria-current={r.path === pathname ? 'page' : undefined}>
                  {r.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="user-box">
          <span className="user-name">
            {me.username} <span className="badge role">{me.role}</span>
          </span>
          <button type="button" className="button small" onClick={() => void signOut().catch((err: unknown) => window.alert(messageOf(err)))}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1} className="content">
        {pathname === '/' ? null : !route ? (
          <Page title="Not found">
            <p>
              There is no page at <code>{pathname}</code>. <Link to="/audit">Go to the audit log</Link>.
            </p>
          </Page>
        ) : !allowed(route, me.role) ? (
          <Page title={route.label}>
            <Notice kind="error">Only {Array.isArray(route.roles) ? route.roles.join(', ') : ''} users can open this page; you are signed in as {me.role}.</Notice>
          </Page>
        ) : (
          route.page()
        )}
      </main>
    </>
  );
}

export function App() {
  const { me } = useSession();
  if (me === undefined) {
    return (
      <main className="splash" id="main">
        <p role="status">Loading Trailmark…</p>
      </main>
    );
  }
  return me === null ? <SignInPage /> : <Shell />;
}
