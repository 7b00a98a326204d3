import { describe, expect, it } from 'vitest';
import { ALERT_RULE_SECRETS, KeyUnwrapError, SealedBox, SealOpenError, SIGNING_KEY_WRAP, unwrapKey, wrapKey } from './sealed-box.js';

const SECRET = 'legacy-fixture-secret-0123456789abcdef';

/**
 * Produced by the code this module replaced (src/lib/secret-box.ts `SecretBox(SECRET,
 * 'alert-rule-secrets:v1').seal(...)` and src/export/key-wrap.ts `wrapKey(bytes 0..31, SECRET,
 * 'key-legacy-1')`); deployments hold values like these, so they must keep opening.
 */
const LEGACY_ALERT_SECRET = 'v1.iKlIkORwlihtql_l.Nmuu7AtkF6cR371D8pSXTg.jo7bs6nPWYDlEpZBMkLE4fvguPw';
const LEGACY_ALERT_EMPTY = 'v1.1VtLd8sJZWXMO1w_.47h43VXjGWj6aRycQrTLTA.';
const LEGACY_WRAPPED_KEY = 'v1.hAl1xiaGpPrQbffN7RifTw.DlN96-iUgdAVSOWO.QA2R0lwQgF6kpaS_bfGQ9C-rWhUKF51WnO7qRHyJMs0.eAXiXe5PEun0YXZDz9dWRw';
const KEY_BYTES = Buffer.from(Array.from({ length: 32 }, (_, i) => i));

describe('SealedBox', () => {
  it('opens values sealed by the previous SecretBox and key-wrap code', () => {
    const alerts = new SealedBox(SECRET, ALERT_RULE_SECRETS);
    expect(alerts.openText(LEGACY_ALERT_SECRET)).toBe('whsec_legacy-fixture');
    expect(alerts.openText(LEGACY_ALERT_EMPTY)).toBe('');
    expect(unwrapKey(LEGACY_WRAPPED_KEY, SECRET, 'key-legacy-1')).toEqual(KEY_BYTES);
    expect(new SealedBox(SECRET, SIGNING_KEY_WRAP).open(LEGACY_WRAPPED_KEY, 'key-legacy-1')).toEqual(KEY_BYTES);
  });

  it('writes the same layouts as before', () => {
    expect(new SealedBox(SECRET, ALERT_RULE_SECRETS).seal('abc')).toMatch(/^v1\.[\w-]{16}\.[\w-]{22}\.[\w-]{4}$/);
    expect(wrapKey(KEY_BYTES, SECRET, 'k')).toMatch(/^v1\.[\w-]{22}\.[\w-]{16}\.[\w-]{43}\.[\w-]{22}$/);
  });

  it('round-trips text and bytes, with and without associated data', () => {
    const box = new SealedBox(SECRET, ALERT_RULE_SECRETS);
    expect(box.openText(box.seal('héllo'))).toBe('héllo');
    const withAad = box.seal('url', 'rule-1');
    expect(box.openText(withAad, 'rule-1')).toBe('url');
    expect(() => box.open(withAad)).toThrow(SealOpenError);
    expect(() => box.open(withAad, 'rule-2')).toThrow(SealOpenError);
    const salted = new SealedBox(SECRET, SIGNING_KEY_WRAP);
    expect(salted.open(salted.seal(KEY_BYTES, 'k1'), 'k1')).toEqual(KEY_BYTES);
  });

  it('keeps purposes apart: a value sealed for one purpose does not open as another', () => {
    const sameLayoutOther = new SealedBox(SECRET, { info: 'trailmark:other-purpose:v1', layout: 'short' });
    expect(() => sameLayoutOther.open(LEGACY_ALERT_SECRET)).toThrow(expect.objectContaining({ reason: 'key' }));
    const saltedOther = new SealedBox(SECRET, { info: 'trailmark:other-purpose:v1', layout: 'salted' });
    expect(() => saltedOther.open(LEGACY_WRAPPED_KEY, 'key-legacy-1')).toThrow(expect.objectContaining({ reason: 'key' }));
    expect(ALERT_RULE_SECRETS.info).not.toBe(SIGNING_KEY_WRAP.info);
    // Same key material sealed as an alert secret is refused by the signing-key unwrap, and the reverse.
    const asAlertLayoutKeyWrap = new SealedBox(SECRET, { info: SIGNING_KEY_WRAP.info, layout: 'short' }).seal('x');
    expect(() => new SealedBox(SECRET, ALERT_RULE_SECRETS).open(asAlertLayoutKeyWrap)).toThrow(expect.objectContaining({ reason: 'key' }));
    const asSaltedAlert = new SealedBox(SECRET, { info: ALERT_RULE_SECRETS.info, layout: 'salted' }).seal(KEY_BYTES, 'k1');
    expect(() => unwrapKey(asSaltedAlert, SECRET, 'k1')).toThrow(KeyUnwrapError);
    expect(() => unwrapKey(LEGACY_ALERT_SECRET, SECRET, '')).toThrow(KeyUnwrapError);
    expect(() => new SealedBox(SECRET, ALERT_RULE_SECRETS).open(LEGACY_WRAPPED_KEY)).toThrow(SealOpenError);
  });

  it('refuses a wrong SECRET_KEY, a flipped bit and unknown formats', () => {
    const box = new SealedBox(`${SECRET}x`, ALERT_RULE_SECRETS);
    expect(() => box.open(LEGACY_ALERT_SECRET)).toThrow(/cannot be opened/);
    const parts = LEGACY_ALERT_SECRET.split('.');
    parts[3] = (parts[3]![0] === 'A' ? 'B' : 'A') + parts[3]!.slice(1);
    expect(() => new SealedBox(SECRET, ALERT_RULE_SECRETS).open(parts.join('.'))).toThrow(expect.objectContaining({ reason: 'key' }));
    for (const bad of ['v0.a.b.c', 'v1.a.b', 'v1.a.b.c!', 'plain']) {
      expect(() => new SealedBox(SECRET, ALERT_RULE_SECRETS).open(bad)).toThrow(expect.objectContaining({ reason: 'format' }));
    }
    expect(() => unwrapKey('v0.x', SECRET, 'k1')).toThrow(/format/);
  });
});
