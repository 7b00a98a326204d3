import { useEffect, useRef, useState } from 'react';
import type { ActorType, Catalog, Severity } from '../lib/types';
import { SEVERITIES } from '../lib/types';
import type { AuditView } from './audit-view';
import { EMPTY_FILTERS, QUICK_RANGES, hasFilters, inputFromIso, isoFromInput } from './audit-view';
import { EventTypePicker } from './event-type-picker';

/** A text box that applies its value after a pause in typing, on Enter, or when left. */
function useDebounced(value: string, apply: (v: string) => void, ms: number) {
  const [text, setText] = useState(value);
  const latest = useRef(apply);
  latest.current = apply;
  useEffect(() => setText(value), [value]);
  useEffect(() => {
    if (text === value) return;
    const t = setTimeout(() => latest.current(text), ms);
    return () => clearTimeout(t);
  }, [text, value, ms]);
  return {
    value: text,
    onChange: (e: { target: { value: string } }) => setText(e.target.value),
    onBlur: () => text !== value && apply(text),
    onKeyDown: (e: { key: string }) => e.key === 'Enter' && text !== value && apply(text),
  };
}

export function AuditFilters({ view, catalog, onChange }: { view: AuditView; catalog: Catalog | undefined; onChange: (change: Partial<AuditView>, replace?: boolean) => void }) {
  const search = useDebounced(view.q, (q) => onChange({ q }, true), 350);
  const actor = useDebounced(view.actor, (a) => onChange({ actor: a.trim() }, true), 600);
  const resource = useDebounced(view.resource, (r) => onChange({ resource: r.trim() }, true), 600);

  const [expanded, setExpanded] = useState(false);
  const active = [view.range || view.start || view.end, view.actor, view.actorType, view.resource, view.severity.length].filter(Boolean).length;
  const toggleSeverity = (s: Severity, on: boolean): void => onChange({ severity: SEVERITIES.filter((x) => (x === s ? on : view.severity.includes(x))) });

  return (
    <section className={`filters card${expanded ? '' : ' collapsed'}`} aria-label="Filters">
      <div className="filter-row">
        <label className="field grow">
          <span>Search</span>
          <input type="search" placeholder="Event type, actor, description or resource" maxLength={200} {...search} />
        </label>
        <EventTypePicker catalog={catalog} selected={view.action} onChange={(action) => onChange({ action })} />
      </div>
      {/* On narrow screens the other filters fold away behind this button. */}
      <button type="button" className="button small filters-toggle" aria-expanded={expanded} onClick={() => setExpanded((e) => !e)}>
        {expanded ? 'Fewer filters' : `More filters${active ? ` (${active} active)` : ''}`}
      </button>

      <div className="filter-row more">
        <div className="field range">
          <span className="field-label" id="range-label">
            Date range
          </span>
          <div className="segmented" role="group" aria-labelledby="range-label">
            {QUICK_RANGES.map((r) => (
              <button key={r.key} type="button" className="button" aria-pressed={view.range === r.key} title={r.name} onClick={() => onChange({ range: view.range === r.key ? null : r.key, start: null, end: null })}>
                {r.label}
              </button>
            ))}
          </div>
        </div>
        <label className="field">
          <span>From (UTC)</span>
          <input type="datetime-local" value={view.range ? '' : inputFromIso(view.start)} onChange={(e) => onChange({ range: null, start: isoFromInput(e.target.value) }, true)} />
        </label>
        <label className="field">
          <span>To (UTC)</span>
          <input type="datetime-local" value={view.range ? '' : inputFromIso(view.end)} onChange={(e) => onChange({ range: null, end: isoFromInput(e.target.value) }, true)} />
        </label>
      </div>

      <div className="filter-row more">
        <label className="field">
          <span>Actor</span>
          <input placeholder="User, worker or system" maxLength={256} {...actor} />
        </label>
        <label className="field">
          <span>Actor type</span>
          <select value={view.actorType} onChange={(e) => onChange({ actorType: e.target.value as ActorType | '' })}>
            <option value="">Any</option>
            <option value="user">User</option>
            <option value="worker">Worker</option>
            <option value="system">System</option>
          </select>
        </label>
        <label className="field">
          <span>Resource</span>
          <input placeholder="Type, id or name" maxLength={256} {...resource} />
        </label>
        <fieldset className="field severity">
          <legend className="field-label">Severity</legend>
          <div className="checks">
            {SEVERITIES.map((s) => (
              <label key={s} className="check">
                <input type="checkbox" checked={view.severity.includes(s)} onChange={(e) => toggleSeverity(s, e.target.checked)} />
                <span className={`badge sev-${s}`}>{s}</span>
              </label>
            ))}
          </div>
        </fieldset>
        <div className="field end">
          <button type="button" className="button" onClick={() => onChange(EMPTY_FILTERS)} disabled={!hasFilters(view)}>
            Clear filters
          </button>
        </div>
      </div>
    </section>
  );
}
