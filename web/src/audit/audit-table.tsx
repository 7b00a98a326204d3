import { Fragment, useMemo } from 'react';
import type { ColumnDef, ExpandedState, OnChangeFn } from '@tanstack/react-table';
import { flexRender, getCoreRowModel, useReactTable } from '@tanstack/react-table';
import { actorLabel, local, pretty, utc } from '../lib/format';
import type { AuditEntry } from '../lib/types';

const columns: ColumnDef<AuditEntry>[] = [
  {
    id: 'expand',
    header: () => <span className="sr-only">Details</span>,
    cell: ({ row }) => (
      <button
        type="button"
        className="icon-button"
        aria-expanded={row.getIsExpanded()}
        aria-label={`${row.getIsExpanded() ? 'Hide' : 'Show'} details of entry ${row.original.seq}`}
        onClick={(e) => {
          e.stopPropagation();
          row.toggleExpanded();
        }}
      >
        <span aria-hidden="true">{row.getIsExpanded() ? '▾' : '▸'}</span>
      </button>
    ),
  },
  {
    id: 'ts',
    header: 'Timestamp (UTC)',
    cell: ({ row }) => (
      <time dateTime={row.original.ts} title={local(row.original.ts)} className="nowrap">
        {utc(row.original.ts).replace(' UTC', '')}
      </time>
    ),
  },
  { id: 'action', header: 'Event type', cell: ({ row }) => <code className="action">{row.original.action}</code> },
  {
    id: 'actor',
    header: 'Actor',
    cell: ({ row }) => (
      <span>
        {actorLabel(row.original.actor)} <span className="muted small">{row.original.actor.type}</span>
      </span>
    ),
  },
  { id: 'description', header: 'Description', cell: ({ row }) => <span className="description">{row.original.description}</span> },
  { id: 'severity', header: 'Severity', cell: ({ row }) => <span className={`badge sev-${row.original.severity}`}>{row.original.severity}</span> },
  {
    id: 'resource',
    header: 'Resource',
    cell: ({ row }) => {
      const r = row.original.resource;
      return (
        <span title={`${r.type}: ${r.id}`}>
          <span className="muted small">{r.type}</span> {r.name ?? r.id}
        </span>
      );
    },
  },
  {
    id: 'open',
    header: () => <span className="sr-only">Entry</span>,
    cell: ({ row, table }) => (
      <button
        type="button"
        className="button small"
        aria-label={`Open entry ${row.original.seq}`}
        onClick={(e) => {
          e.stopPropagation();
          (table.options.meta as TableMeta).open(row.original, e.currentTarget);
        }}
      >
        Open
      </button>
    ),
  },
];

interface TableMeta {
  open: (entry: AuditEntry, from: HTMLElement) => void;
}

/**
 * The audit table (TanStack Table v8). `entries` must keep its identity between renders
 * when unchanged: a fresh `[]` each render makes v8 recompute rows in a loop.
 */
export function AuditTable({
  entries,
  expanded,
  onExpandedChange,
  onOpen,
  freshSeqs,
}: {
  entries: AuditEntry[];
  expanded: ExpandedState;
  onExpandedChange: OnChangeFn<ExpandedState>;
  onOpen: (entry: AuditEntry, from: HTMLElement) => void;
  freshSeqs: ReadonlySet<number>;
}) {
  const meta = useMemo<TableMeta>(() => ({ open: onOpen }), [onOpen]);
  const table = useReactTable({
    data: entries,
    columns,
    getRowId: (e) => String(e.seq),
    getCoreRowModel: getCoreRowModel(),
    getRowCanExpand: () => true,
    state: { expanded },
    onExpandedChange,
    meta,
  });

  return (
    <div className="table-wrap">
      <table className="audit-table">
        <caption className="sr-only">Audit entries, newest first</caption>
        <thead>
          {table.getHeaderGroups().map((hg) => (
            <tr key={hg.id}>
              {hg.headers.map((h) => (
                <th key={h.id} scope="col" className={`col-${h.column.id}`}>
                  {h.isPlaceholder ? null : flexRender(h.column.columnDef.header, h.getContext())}
                </th>
              ))}
            </tr>
          ))}
        </thead>
        <tbody>
          {table.getRowModel().rows.map((row) => (
            <Fragment key={row.id}>
              <tr className={`entry-row${freshSeqs.has(row.original.seq) ? ' fresh' : ''}${row.getIsExpanded() ? ' expanded' : ''}`} onClick={(e) => onOpen(row.original, e.currentTarget)} data-seq={row.original.seq}>
                {row.getVisibleCells().map((cell) => (
                  <td key={cell.id} className={`col-${cell.column.id}`} data-label={typeof cell.column.columnDef.header === 'string' ? cell.column.columnDef.header : undefined}>
                    {flexRender(cell.column.columnDef.cell, cell.getContext())}
                  </td>
                ))}
              </tr>
              {row.getIsExpanded() && (
                <tr className="details-row">
                  <td colSpan={row.getVisibleCells().length}>
                    <div className="details-grid">
                      <div>
                        <h3 className="small-heading">Details</h3>
                        <pre className="json" tabIndex={0} aria-label={`Details of entry ${row.original.seq}`}>
                          {pretty(row.original.details)}
                        </pre>
                      </div>
                      <dl className="meta-list">
                        <dt>Seq</dt>
                        <dd>{row.original.seq}</dd>
                        <dt>Resource</dt>
                        <dd>
                          {row.original.resource.type} <code>{row.original.resource.id}</code>
                        </dd>
                        <dt>Source IP</dt>
                        <dd>{row.original.source.ip ?? '—'}</dd>
                      </dl>
                    </div>
                  </td>
                </tr>
              )}
            </Fragment>
          ))}
        </tbody>
      </table>
    </div>
  );
}
