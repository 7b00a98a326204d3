import { useCallback, useId, useMemo, useRef, useState } from 'react';
import type { Catalog, CatalogAction } from '../lib/types';
import { useDismiss } from '../lib/use-dismiss';

const EMPTY: readonly CatalogAction[] = [];
const title = (category: string): string => category.charAt(0).toUpperCase() + category.slice(1);

/**
 * Event-type filter from the catalog: grouped by category, several at once, and a
 * wildcard per category (`rotation.*`) that also covers actions added later.
 */
export function EventTypePicker({ catalog, selected, onChange, label = 'Event type', emptyText = 'All event types' }: { catalog: Catalog | undefined; selected: readonly string[]; onChange: (next: string[]) => void; label?: string; emptyText?: string }) {
  const [open, setOpen] = useState(false);
  const [alignRight, setAlignRight] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const panelId = useId();
  const close = useCallback((refocus: boolean) => {
    setOpen(false);
    if (refocus) button.current?.focus();
  }, []);
  useDismiss(open, box, close);

  const groups = useMemo(() => {
    const actions = catalog?.actions ?? EMPTY;
    return (catalog?.categories ?? []).map((category) => ({ category, actions: actions.filter((a) => a.category === category) })).filter((g) => g.actions.length > 0);
  }, [catalog]);

  const toggle = (value: string, on: boolean): void => {
    let next = selected.filter((s) => s !== value);
    if (on) {
      if (value.endsWith('.*')) {
        const prefix = value.slice(0, -1);
        next = next.filter((s) => !s.startsWith(prefix));
      }
      next.push(value);
    }
    onChange(next);
  };

  const summary = selected.length === 0 ? emptyText : selected.length === 1 ? selected[0] : `${selected.length} event types`;

  return (
    <div className="picker" ref={box}>
      <span className="field-label" id={`${panelId}-label`}>
        {label}
      </span>
      <button
        ref={button}
        type="button"
        className="button select-button"
        aria-expanded={open}
        aria-controls={panelId}
        aria-labelledby={`${panelId}-label ${panelId}-value`}
        onClick={() => {
          // Open towards the side with room, so the panel never sticks out of the window.
          const rect = button.current?.getBoundingClientRect();
          const width = Math.min(640, window.innerWidth - 32);
          setAlignRight(rect !== undefined && rect.left + width > window.innerWidth - 16);
          setOpen((o) => !o);
        }}
        disabled={!catalog}
      >
        <span id={`${panelId}-value`}>{catalog ? summary : 'Loading…'}</span>
        <span aria-hidden="true"> ▾</span>
      </button>
      {open && (
        <div className={`popover picker-panel${alignRight ? ' align-right' : ''}`} id={panelId} role="group" aria-label="Event types">
          {groups.map(({ category, actions }) => {
            const wildcard = `${category}.*`;
            const all = selected.includes(wildcard);
            return (
              <fieldset key={category} className="picker-group">
                <legend>{title(category)}</legend>
                <label className="check strong">
                  <input type="checkbox" checked={all} onChange={(e) => toggle(wildcard, e.target.checked)} />
                  All {category} events <code>{wildcard}</code>
                </label>
                {actions.map((a) => (
                  <label className="check" key={a.action} title={a.severity_reason}>
                    <input type="checkbox" checked={all || selected.includes(a.action)} disabled={all} onChange={(e) => toggle(a.action, e.target.checked)} />
                    <code>{a.action}</code> <span className={`badge sev-${a.severity}`}>{a.severity}</span>
                  </label>
                ))}
              </fieldset>
            );
          })}
          <div className="popover-foot">
            <button type="button" className="button" onClick={() => onChange([])} disabled={selected.length === 0}>
              Any event type
            </button>
            <button type="button" className="button primary" onClick={() => close(true)}>
              Done
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
