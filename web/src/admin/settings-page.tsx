import type { FormEvent, ReactNode } from 'react';
import { useEffect, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, messageOf } from '../lib/api';
import type { Settings } from '../lib/types';
import type { Result } from '../ui/notice';
import { LoadState, Notice, ResultNotice } from '../ui/notice';
import { Page } from '../ui/page';

interface UpdateResult {
  settings: Settings;
  changed: string[];
  warnings: Array<{ setting: string; message: string; entries_to_remove: number }>;
}

interface NumberField {
  key: keyof Settings;
  label: string;
  min: number;
  max: number;
  unit: string;
  hint: string;
}

const SECTIONS: Array<{ id: string; title: string; intro?: string; numbers: NumberField[]; toggles: Array<{ key: keyof Settings; label: string; hint: string }>; texts: Array<{ key: keyof Settings; label: string; hint: string }> }> = [
  {
    id: 'general',
    title: 'General',
    numbers: [],
    toggles: [{ key: 'auditors_may_export', label: 'Auditors may export', hint: 'Admins always may export the audit log; this lets the auditor role export too.' }],
    texts: [{ key: 'tenant_name', label: 'Organisation name', hint: 'Shown on exports.' }],
  },
  {
    id: 'sign-in',
    title: 'Sign-in and sessions',
    numbers: [
      { key: 'lockout_threshold', label: 'Failed sign-ins before lockout', min: 3, max: 20, unit: 'attempts', hint: 'Within the window below.' },
      { key: 'lockout_window_minutes', label: 'Counting window', min: 1, max: 1440, unit: 'minutes', hint: '' },
      { key: 'lockout_duration_minutes', label: 'Lockout duration', min: 1, max: 10080, unit: 'minutes', hint: 'Unless an admin unlocks the account earlier.' },
      { key: 'session_idle_minutes', label: 'Idle session timeout', min: 5, max: 1440, unit: 'minutes', hint: '' },
      { key: 'session_absolute_hours', label: 'Session lifetime', min: 1, max: 720, unit: 'hours', hint: 'From sign-in, however active.' },
    ],
    toggles: [],
    texts: [],
  },
  {
    id: 'advanced',
    title: 'Advanced',
    numbers: [{ key: 'audit_retention_days', label: 'Audit Log Retention', min: 30, max: 365, unit: 'days', hint: 'Entries older than this are removed by the daily retention run (default 90). Export them first if you need them longer.' }],
    toggles: [{ key: 'stdout_mirror', label: 'Mirror entries to standard output', hint: 'One JSON line per committed entry, for container log collectors.' }],
    texts: [],
  },
];

function Field({ id, label, hint, error, children }: { id: string; label: string; hint?: string; error?: string; children: ReactNode }) {
  return (
    <div className={`field${error ? ' invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && (
        <span className="hint" id={`${id}-hint`}>
          {hint}
        </span>
      )}
      {error && (
        <span className="field-error" id={`${id}-error`}>
          {error}
        </span>
      )}
    </div>
  );
}

/** One section's form: validates in the browser, sends only what changed, shows the answer. */
function SettingsSection({ section, settings }: { section: (typeof SECTIONS)[number]; settings: Settings }) {
  const queryClient = useQueryClient();
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [result, setResult] = useState<Result>(null);
  const [warnings, setWarnings] = useState<UpdateResult['warnings']>([]);
  const save = useMutation({
    mutationFn: (patch: Partial<Settings>) => api<UpdateResult>('PUT', '/api/settings', patch),
    onSuccess: (r) => {
      queryClient.setQueryData(['settings'], r.settings);
      setWarnings(r.warnings);
      setResult({ kind: 'success', text: r.changed.length ? `Saved: ${r.changed.join(', ')}.` : 'Nothing changed.' });
    },
    onError: (err) => setResult({ kind: 'error', text: messageOf(err) }),
  });

  const submit = (e: FormEvent<HTMLFormElement>): void => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const patch: Record<string, unknown> = {};
    const problems: Record<string, string> = {};
    for (const f of section.numbers) {
      const raw = String(form.get(f.key as string) ?? '').trim();
      const n = Number(raw);
      if (!/^\d+$/.test(raw) || n < f.min || n > f.max) problems[f.key as string] = `Enter a whole number of ${f.unit} from ${f.min} to ${f.max}.`;
      else if (n !== settings[f.key]) patch[f.key as string] = n;
    }
    for (const f of section.texts) {
      const v = String(form.get(f.key as string) ?? '').trim();
      if (v.length === 0 || v.length > 128) problems[f.key as string] = 'Enter 1 to 128 characters.';
      else if (v !== settings[f.key]) patch[f.key as string] = v;
    }
    for (const f of section.toggles) {
      const v = form.get(f.key as string) === 'on';
      if (v !== settings[f.key]) patch[f.key as string] = v;
    }
    setErrors(problems);
    setWarnings([]);
    if (Object.keys(problems).length > 0) {
      setResult({ kind: 'error', text: 'Fix the highlighted field before saving.' });
      const first = Object.keys(problems)[0];
      if (first) document.getElementById(`setting-${first}`)?.focus();
      return;
    }
    if (Object.keys(patch).length === 0) return setResult({ kind: 'success', text: 'Nothing changed.' });
    save.mutate(patch as Partial<Settings>);
  };

  return (
    <section className="card settings-section" aria-labelledby={`section-${section.id}`}>
      <h2 id={`section-${section.id}`}>{section.title}</h2>
      <form onSubmit={submit} noValidate>
        <div className="form-grid">
          {section.texts.map((f) => (
            <Field key={f.key as string} id={`setting-${f.key as string}`} label={f.label} hint={f.hint} error={errors[f.key as string]}>
              <input id={`setting-${f.key as string}`} name={f.key as string} defaultValue={String(settings[f.key])} maxLength={128} aria-invalid={Boolean(errors[f.key as string])} aria-describedby={`setting-${f.key as string}-hint setting-${f.key as string}-error`} />
            </Field>
          ))}
          {section.numbers.map((f) => (
            <Field key={f.key as string} id={`setting-${f.key as string}`} label={f.label} hint={`${f.min}–${f.max} ${f.unit}. ${f.hint}`} error={errors[f.key as string]}>
              <span className="with-unit">
                <input id={`setting-${f.key as string}`} name={f.key as string} type="number" inputMode="numeric" min={f.min} max={f.max} step={1} defaultValue={String(settings[f.key])} aria-invalid={Boolean(errors[f.key as string])} aria-describedby={`setting-${f.key as string}-hint setting-${f.key as string}-error`} />
                <span aria-hidden="true">{f.unit}</span>
              </span>
            </Field>
          ))}
          {section.toggles.map((f) => (
            <label key={f.key as string} className="check toggle">
              <input type="checkbox" name={f.key as string} defaultChecked={Boolean(settings[f.key])} />
              <span>
                {f.label}
                <span className="hint block">{f.hint}</span>
              </span>
            </label>
          ))}
        </div>
        <div className="form-actions">
          <button type="submit" className="button primary" disabled={save.isPending}>
            {save.isPending ? 'Saving…' : `Save ${section.title.toLowerCase()}`}
          </button>
        </div>
        <ResultNotice result={result} onDismiss={() => setResult(null)} />
        {warnings.map((w) => (
          <Notice key={w.setting} kind="warning">
            {w.message}
          </Notice>
        ))}
      </form>
    </section>
  );
}

export function SettingsPage() {
  const settings = useQuery({ queryKey: ['settings'], queryFn: ({ signal }) => api<{ settings: Settings }>('GET', '/api/settings', undefined, signal).then((r) => r.settings) });
  const loaded = settings.isSuccess;
  // A link to /settings#section-advanced lands on that section once it is there.
  useEffect(() => {
    if (loaded && window.location.hash) document.getElementById(window.location.hash.slice(1))?.scrollIntoView();
  }, [loaded]);
  return (
    <Page title="Settings">
      <LoadState query={settings} what="the settings" />
      <nav className="section-nav" aria-label="Settings sections">
        {SECTIONS.map((s) => (
          <a key={s.id} href={`#section-${s.id}`}>
            {s.title}
          </a>
        ))}
      </nav>
      {settings.data && SECTIONS.map((s) => <SettingsSection key={s.id} section={s} settings={settings.data} />)}
    </Page>
  );
}
