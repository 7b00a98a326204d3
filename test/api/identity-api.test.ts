import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../support/backends.js';
import { selfSignedCertificate } from '../support/self-signed-cert.js';
import { ADMIN_PASSWORD, USER_PASSWORD, buildTestApp } from '../support/test-app.js';
import type { TestApp } from '../support/test-app.js';

interface Entry { action: string; severity: string; actor: { name: string | null }; resource: { id: string }; details: Record<string, unknown> }
interface UserJson { id: string; username: string; role: string; locked_until: string | null }

for (const backend of BACKENDS) {
  describe(`users and settings (${backend})`, () => {
    let t: TestApp;
    const latest = async (action: string, n = 1): Promise<Entry[]> =>
      ((await t.request(t.admin, 'GET', `/api/audit?action=${action}&limit=${n}`)).json() as { items: Entry[] }).items;

    beforeAll(async () => {
      t = await buildTestApp(backend);
    });
    afterAll(async () => {
      await t.close();
    });

    it('creates, updates and deletes users, each change audited without the password', async () => {
      const created = await t.request(t.admin, 'POST', '/api/users', { username: 'erin', password: 'erins-first-password', role: 'viewer' });
      expect(created.statusCode).toBe(201);
      const erin = created.json() as UserJson;
      expect((await latest('user.created'))[0]!.details).toEqual({ username: 'erin', role: 'viewer', created_by: 'admin' });

      expect((await t.request(t.admin, 'POST', '/api/users', { username: 'erin', password: 'another-password!', role: 'viewer' })).statusCode).toBe(409);
      expect((await t.request(t.admin, 'POST', '/api/users', { username: 'frank', password: 'short', role: 'viewer' })).statusCode).toBe(400);
      expect((await t.request(t.admin, 'POST', '/api/users', { username: 'bad name', password: 'a-long-password-3', role: 'viewer' })).statusCode).toBe(400);

      const erinSession = await t.login('erin', 'erins-first-password');
      const patched = await t.request(t.admin, 'PATCH', `/api/users/${erin.id}`, { role: 'auditor', password: 'erins-second-password' });
      expect(patched.statusCode).toBe(200);
      expect((patched.json() as UserJson).role).toBe('auditor');
      const [updated] = await latest('user.updated');
      expect(updated!.details).toEqual({ username: 'erin', changed_fields: { role: { old: 'viewer', new: 'auditor' }, password: { changed: true } }, modified_by: 'admin' });
      expect(JSON.stringify(updated)).not.toContain('erins-second-password');
      expect((await t.request(erinSession, 'GET', '/api/auth/me')).statusCode).toBe(401);

      const again = await t.login('erin', 'erins-second-password');
      expect((await t.request(again, 'POST', '/api/auth/password', { current_password: 'nope', new_password: 'erins-third-password' })).statusCode).toBe(400);
      expect((await t.request(again, 'POST', '/api/auth/password', { current_password: 'erins-second-password', new_password: 'erins-third-password' })).statusCode).toBe(204);
      expect((await t.request(again, 'GET', '/api/auth/me')).statusCode).toBe(200);

      expect((await t.request(t.admin, 'DELETE', `/api/users/${erin.id}`)).statusCode).toBe(204);
      expect((await latest('user.deleted'))[0]!.details).toEqual({ username: 'erin', deleted_by: 'admin' });
      expect((await t.request(again, 'GET', '/api/auth/me')).statusCode).toBe(401);
      expect((await t.request(t.admin, 'DELETE', `/api/users/${erin.id}`)).statusCode).toBe(404);
    });

    it('never removes the last enabled admin', async () => {
      const users = (await t.request(t.admin, 'GET', '/api/users')).json() as { users: UserJson[] };
      const admin = users.users.find((u) => u.username === 'admin')!;
      expect((await t.request(t.admin, 'PATCH', `/api/users/${admin.id}`, { role: 'viewer' })).statusCode).toBe(409);
      expect((await t.request(t.admin, 'PATCH', `/api/users/${admin.id}`, { disabled: true })).statusCode).toBe(409);
      expect((await t.request(t.admin, 'DELETE', `/api/users/${admin.id}`)).statusCode).toBe(409);
      const second = (await t.request(t.admin, 'POST', '/api/users', { username: 'root2', password: USER_PASSWORD, role: 'admin' })).json() as UserJson;
      const root2 = await t.login('root2', USER_PASSWORD);
      // Now the first admin may step down — but not both.
      expect((await t.request(root2, 'PATCH', `/api/users/${admin.id}`, { role: 'auditor' })).statusCode).toBe(200);
      expect((await t.request(root2, 'PATCH', `/api/users/${second.id}`, { role: 'viewer' })).statusCode).toBe(409);
      expect((await t.request(root2, 'PATCH', `/api/users/${admin.id}`, { role: 'admin' })).statusCode).toBe(200);
    });

    it('locks after the configured failures; an admin unlock lets the right password in', async () => {
      await t.request(t.admin, 'POST', '/api/users', { username: 'gina', password: USER_PASSWORD, role: 'viewer' });
      const login = (password: string) => t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'gina', password } });
      for (let i = 0; i < 5; i++) expect((await login(`bad-password-${i}`)).statusCode).toBe(401);
      expect((await login(USER_PASSWORD)).statusCode).toBe(423);
      const gina = ((await t.request(t.admin, 'GET', '/api/users')).json() as { users: UserJson[] }).users.find((u) => u.username === 'gina')!;
      expect(gina.locked_until).not.toBeNull();
      expect((await t.request(t.admin, 'PATCH', `/api/users/${gina.id}`, { unlock: true })).statusCode).toBe(200);
      expect((await latest('auth.account.unlocked'))[0]!.details).toEqual({ username: 'gina', unlocked_by: 'admin' });
      expect((await login(USER_PASSWORD)).statusCode).toBe(200);
    });

    it('reads and changes settings, one settings.updated per change, 400 naming a bad one', async () => {
      const get = (await t.request(t.admin, 'GET', '/api/settings')).json() as { settings: Record<string, unknown> };
      expect(get.settings).toMatchObject({ audit_retention_days: 90, lockout_threshold: 5, auditors_may_export: false });
      for (const [body, name] of [[{ audit_retention_days: 29 }, 'audit_retention_days'], [{ audit_retention_days: 366 }, 'audit_retention_days'], [{ lockout_threshold: 0 }, 'lockout_threshold'], [{ colour: 'red' }, ''], [{}, '']] as const) {
        const res = await t.request(t.admin, 'PUT', '/api/settings', body);
        expect(res.statusCode, JSON.stringify(body)).toBe(400);
        expect(res.body).toContain(name);
      }
      const res = await t.request(t.admin, 'PUT', '/api/settings', { audit_retention_days: 180, tenant_name: 'Contoso', lockout_threshold: 5 });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ settings: { audit_retention_days: 180, tenant_name: 'Contoso' }, changed: ['audit_retention_days', 'tenant_name'] });
      const changes = await latest('settings.updated', 2);
      expect(changes.map((e) => e.details).sort((a, b) => String(a.setting).localeCompare(String(b.setting)))).toEqual([
        { setting: 'audit_retention_days', old_value: 90, new_value: 180, modified_by: 'admin' },
        { setting: 'tenant_name', old_value: 'Trailmark', new_value: 'Contoso', modified_by: 'admin' },
      ]);
      expect(((await t.request(t.admin, 'GET', '/api/settings')).json() as { settings: Record<string, unknown> }).settings.audit_retention_days).toBe(180);
    });

    it('manages subscriptions with GUID validation, audited', async () => {
      const id = '0F8FAD5B-D9CB-469F-A165-70867728950E';
      const add = await t.request(t.admin, 'POST', '/api/subscriptions', { subscription_id: id, display_name: 'Production' });
      expect(add.statusCode).toBe(201);
      expect((await latest('subscription.added'))[0]!.details).toEqual({ subscription_id: id.toLowerCase(), added_by: 'admin', display_name: 'Production' });
      expect((await t.request(t.admin, 'POST', '/api/subscriptions', { subscription_id: id })).statusCode).toBe(409);
      expect((await t.request(t.admin, 'POST', '/api/subscriptions', { subscription_id: 'not-a-guid' })).statusCode).toBe(400);
      expect((await t.request(t.admin, 'DELETE', `/api/subscriptions/${id}`)).statusCode).toBe(204);
      expect((await latest('subscription.removed'))[0]).toMatchObject({ severity: 'warning', details: { subscription_id: id.toLowerCase(), removed_by: 'admin' } });
      expect((await t.request(t.admin, 'DELETE', `/api/subscriptions/${id}`)).statusCode).toBe(404);
    });

    it('manages alert rules: validated against the catalog, secrets never shown or audited', async () => {
      const operator = await t.userWithRole('operator');
      const secret = 'webhook-signing-secret-1234';
      const splunkToken = 'Splunk 11111111-2222-3333-4444-555555555555';
      const body = { name: 'Failed logins', event_types: ['auth.login.failed', 'rotation.*'], min_severity: 'warning', channel: { type: 'webhook', url: 'https://siem.example/hook?api_key=k-123', secret, headers: { Authorization: splunkToken }, format: 'splunk_hec' } };
      const created = await t.request(operator, 'POST', '/api/alert-rules', body);
      expect(created.statusCode, created.body).toBe(201);
      const rule = created.json() as { id: string; channel: { url: string; header_names: string[]; has_secret: boolean } };
      expect(rule.channel).toEqual({ type: 'webhook', url: 'https://siem.example/hook?api_key=***', format: 'splunk_hec', header_names: ['Authorization'], has_secret: true });
      const [createdEntry] = await latest('alert.rule.created');
      expect(createdEntry!.details).toMatchObject({ created_by: 'operator-1', rule: { name: 'Failed logins', event_types: ['auth.login.failed', 'rotation.*'] } });

      const patched = await t.request(operator, 'PATCH', `/api/alert-rules/${rule.id}`, { enabled: false, channel: { secret: 'a-new-signing-secret-99' } });
      expect(patched.statusCode).toBe(200);
      expect((await latest('alert.rule.updated'))[0]!.details.changed_fields).toEqual({ enabled: { old: true, new: false }, 'channel.secret': { changed: true } });
      const stored = await t.core.db.all<Record<string, unknown>>('SELECT * FROM alert_rules');
      const everything = JSON.stringify([stored, (await t.request(t.admin, 'GET', '/api/audit?limit=1000')).json(), (await t.request(operator, 'GET', '/api/alert-rules')).json()]);
      for (const s of [secret, 'a-new-signing-secret-99', splunkToken, 'k-123']) expect(everything).not.toContain(s);
      expect((await t.core.alertRules.get(rule.id)).channel).toMatchObject({ secret: 'a-new-signing-secret-99', headers: { Authorization: splunkToken }, url: body.channel.url });

      const bad: Array<[unknown, string]> = [
        [{ ...body, event_types: ['auth.login.failed', 'nope.*'] }, 'event_types[1]'],
        [{ ...body, channel: { ...body.channel, url: 'ftp://x.example/' } }, 'channel.url'],
        [{ ...body, channel: { ...body.channel, url: 'https://user:pw@x.example/' } }, 'channel.url'],
        [{ ...body, channel: { ...body.channel, headers: { 'X-Evil': 'a\r\nInjected: 1' } } }, 'channel.headers'],
        [{ ...body, channel: { ...body.channel, headers: { 'X-Trailmark-Signature': 'forged' } } }, 'channel.headers'],
        [{ ...body, channel: { ...body.channel, secret: 'short' } }, 'secret'],
      ];
      for (const [b, field] of bad) {
        const res = await t.request(operator, 'POST', '/api/alert-rules', b);
        expect(res.statusCode, field).toBe(400);
        expect(res.body).toContain(field);
      }
      expect((await t.request(operator, 'DELETE', `/api/alert-rules/${rule.id}`)).statusCode).toBe(204);
      expect((await latest('alert.rule.deleted'))[0]!.details).toMatchObject({ rule_id: rule.id });
    });

    it('manages syslog alert rules: validated field by field, shown and audited without the CA body', async () => {
      const operator = await t.userWithRole('operator');
      const ca = selfSignedCertificate().cert;
      const body = { name: 'SIEM syslog', event_types: ['auth.*'], channel: { type: 'syslog', host: 'siem.example.net', port: 6514, tls: true, ca } };
      const created = await t.request(operator, 'POST', '/api/alert-rules', body);
      expect(created.statusCode, created.body).toBe(201);
      const rule = created.json() as { id: string; channel: unknown };
      const shown = { type: 'syslog', host: 'siem.example.net', port: 6514, tls: true, app_name: 'trailmark', has_ca: true };
      expect(rule.channel).toEqual(shown);
      expect((await latest('alert.rule.created'))[0]!.details).toMatchObject({ rule: { name: 'SIEM syslog', channel: shown } });
      expect((await t.request(operator, 'GET', `/api/alert-rules/${rule.id}`)).json()).toMatchObject({ channel: shown });

      const patched = await t.request(operator, 'PATCH', `/api/alert-rules/${rule.id}`, { channel: { port: 1514, app_name: 'trailmark-eu', ca: null, tls: false } });
      expect(patched.statusCode, patched.body).toBe(200);
      expect((await latest('alert.rule.updated'))[0]!.details.changed_fields).toEqual({
        'channel.port': { old: 6514, new: 1514 }, 'channel.tls': { old: true, new: false }, 'channel.app_name': { old: 'trailmark', new: 'trailmark-eu' }, 'channel.ca': { changed: true },
      });
      const switched = await t.request(operator, 'PATCH', `/api/alert-rules/${rule.id}`, { channel: { type: 'webhook', url: 'https://siem.example/in?token=switch-key', secret: 'switch-signing-secret-1' } });
      expect(switched.statusCode, switched.body).toBe(200);
      expect((await latest('alert.rule.updated'))[0]!.details.changed_fields).toEqual({
        channel: { old: { ...shown, port: 1514, tls: false, app_name: 'trailmark-eu', has_ca: false }, new: { type: 'webhook', url: 'https://siem.example/in?token=***', format: 'generic', header_names: [], has_secret: true } },
        'channel.secret': { changed: true },
      });
      const everything = JSON.stringify([await t.core.db.all('SELECT * FROM alert_rules'), (await t.request(t.admin, 'GET', '/api/audit?limit=1000')).json()]);
      for (const s of ['BEGIN CERTIFICATE', 'switch-key', 'switch-signing-secret-1']) expect(everything).not.toContain(s);

      const bad: Array<[unknown, string]> = [
        [{ ...body, channel: { ...body.channel, port: 0 } }, 'body.channel.port'],
        [{ ...body, channel: { ...body.channel, port: 65536 } }, 'body.channel.port'],
        [{ ...body, channel: { ...body.channel, port: 'syslog' } }, 'body.channel.port'],
        [{ ...body, channel: { type: 'syslog', host: 'siem.example.net' } }, 'body.channel.port'],
        [{ ...body, channel: { ...body.channel, url: 'https://x.example/' } }, 'body.channel.url'],
        [{ ...body, channel: { ...body.channel, host: 'siem.example.net\nlocalhost' } }, 'body.channel.host'],
        [{ ...body, channel: { ...body.channel, host: 'bad host' } }, 'body.channel.host'],
        [{ ...body, channel: { ...body.channel, host: '-bad.example' } }, 'body.channel.host'],
        [{ ...body, channel: { ...body.channel, host: '999.1.1.1' } }, 'body.channel.host'],
        [{ ...body, channel: { ...body.channel, host: '[::1]' } }, 'body.channel.host'],
        [{ ...body, channel: { ...body.channel, app_name: 'has space' } }, 'body.channel.app_name'],
        [{ ...body, channel: { ...body.channel, app_name: 'a'.repeat(49) } }, 'body.channel.app_name'],
        [{ ...body, channel: { ...body.channel, ca: 'not a certificate' } }, 'body.channel.ca'],
        [{ ...body, channel: { ...body.channel, ca: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' } }, 'body.channel.ca'],
        [{ ...body, channel: { ...body.channel, tls: false } }, 'body.channel.ca'],
        [{ ...body, channel: { ...body.channel, type: 'carrier-pigeon' } }, 'body.channel'],
      ];
      for (const [b, field] of bad) {
        const res = await t.request(operator, 'POST', '/api/alert-rules', b);
        expect(res.statusCode, field).toBe(400);
        expect((res.json() as { error: { details: { field: string } } }).error.details.field, JSON.stringify(b)).toBe(field);
      }
      const other = (await t.request(operator, 'POST', '/api/alert-rules', { ...body, name: 'other', channel: { type: 'syslog', host: '10.0.0.5', port: 514 } })).json() as { id: string; channel: unknown };
      expect(other.channel).toEqual({ type: 'syslog', host: '10.0.0.5', port: 514, tls: false, app_name: 'trailmark', has_ca: false });
      const badPatches: Array<[unknown, string]> = [
        [{ channel: { port: 70000 } }, 'body.channel.port'],
        [{ channel: { url: 'https://x.example/' } }, 'body.channel.url'],
        [{ channel: { type: 'webhook' } }, 'body.channel.url'],
        [{ channel: { host: 'fe80::1', ca: 'x' } }, 'body.channel.ca'],
      ];
      for (const [b, field] of badPatches) {
        const res = await t.request(operator, 'PATCH', `/api/alert-rules/${other.id}`, b);
        expect(res.statusCode, field).toBe(400);
        expect((res.json() as { error: { details: { field: string } } }).error.details.field, JSON.stringify(b)).toBe(field);
      }
      expect(((await t.request(operator, 'GET', `/api/alert-rules/${other.id}`)).json() as { channel: unknown }).channel).toEqual(other.channel);
    });

    it('keeps the admin password out of every entry', async () => {
      const all = JSON.stringify((await t.request(t.admin, 'GET', '/api/audit?limit=1000')).json());
      expect(all).not.toContain(ADMIN_PASSWORD);
      expect(all).not.toContain(USER_PASSWORD);
    });
  });
}
