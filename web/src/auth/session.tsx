import type { ReactNode } from 'react';
import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { ApiError, api, setCsrfToken, setUnauthenticatedHandler } from '../lib/api';
import type { Me } from '../lib/types';

interface SessionValue {
  /** undefined while the first /api/auth/me is in flight; null when signed out. */
  readonly me: Me | null | undefined;
  signIn(username: string, password: string): Promise<void>;
  signOut(): Promise<void>;
  /** Why the user is on the sign-in page again (a session that ended). */
  readonly endedMessage: string | null;
}

const SessionContext = createContext<SessionValue | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [endedMessage, setEndedMessage] = useState<string | null>(null);

  const adopt = useCallback((next: Me | null) => {
    setCsrfToken(next?.csrf_token ?? null);
    setMe(next);
  }, []);

  useEffect(() => {
    let cancelled = false;
    api<Me | { kind: 'token' }>('GET', '/api/auth/me')
      .then((m) => !cancelled && adopt(m.kind === 'user' ? m : null))
      .catch(() => !cancelled && adopt(null));
    return () => {
      cancelled = true;
    };
  }, [adopt]);

  useEffect(() => {
    setUnauthenticatedHandler(() => {
      setEndedMessage('Your session has ended. Sign in again.');
      queryClient.clear();
      adopt(null);
    });
    return () => setUnauthenticatedHandler(null);
  }, [adopt, queryClient]);

  const signIn = useCallback(async (username: string, password: string) => {
    await api<{ user: unknown; csrf_token: string }>('POST', '/api/auth/login', { username, password });
    const m = await api<Me>('GET', '/api/auth/me');
    queryClient.clear();
    setEndedMessage(null);
    adopt(m);
  }, [adopt, queryClient]);

  const signOut = useCallback(async () => {
    try {
      await api('POST', '/api/auth/logout');
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) throw err;
    }
    queryClient.clear();
    setEndedMessage(null);
    adopt(null);
  }, [adopt, queryClient]);

  const value = useMemo(() => ({ me, signIn, signOut, endedMessage }), [me, signIn, signOut, endedMessage]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}

/** The signed-in user (only used below the sign-in gate). */
export function useMe(): Me {
  const { me } = useSession();
  if (!me) throw new Error('useMe while signed out');
  return me;
}
