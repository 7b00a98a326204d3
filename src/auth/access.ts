export const ROLES = ['admin', 'auditor', 'operator', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export const SCOPES = ['audit:write', 'audit:read'] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * Who may call a route. Every route declares one (the server refuses to start otherwise):
 * `public` (no sign-in), or the user roles and token scopes it admits.
 */
export type AccessRule = 'public' | { readonly roles: readonly Role[]; readonly scopes: readonly Scope[] };

export const ALL_ROLES: readonly Role[] = ROLES;

/** A signed-in user (cookie session) or an API token, as seen by route handlers. */
export type Principal =
  | {
      readonly kind: 'user';
      readonly userId: string;
      readonly username: string;
      readonly role: Role;
      readonly sessionIdHash: string;
      readonly csrfToken: string;
    }
  | { readonly kind: 'token'; readonly tokenId: string; readonly name: string; readonly scopes: readonly Scope[] };

export function describeRule(rule: AccessRule): string {
  if (rule === 'public') return 'Public: no authentication.';
  const who: string[] = [];
  if (rule.roles.length > 0) who.push(`roles: ${rule.roles.join(', ')}`);
  if (rule.scopes.length > 0) who.push(`API token scopes: ${rule.scopes.join(', ')}`);
  return `Requires ${who.join('; or ')}.`;
}

export function admits(rule: AccessRule, principal: Principal): boolean {
  if (rule === 'public') return true;
  if (principal.kind === 'user') return rule.roles.includes(principal.role);
  return principal.scopes.some((s) => rule.scopes.includes(s));
}
