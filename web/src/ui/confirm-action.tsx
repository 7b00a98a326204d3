import type { KeyboardEvent, ReactNode } from 'react';
import { useEffect, useRef, useState } from 'react';

/**
 * A button whose action needs a second, explicit confirmation: clicking it shows the question
 * with a confirm and a Cancel button in its place. Focus moves to the confirm button; Cancel or
 * Escape puts the trigger back and focuses it again, as does the end of the action when the
 * trigger is still on screen (a deleted row's is not). While the action runs the confirm button
 * is disabled; its outcome (an error included) is the caller's to show, e.g. a ResultNotice.
 */
export function ConfirmAction({
  label,
  question,
  confirmLabel,
  groupLabel,
  onConfirm,
  busy = false,
  disabled = false,
}: {
  /** Text of the trigger button, e.g. "Delete". */
  label: string;
  /** Shown beside the buttons, e.g. "Delete erin?". */
  question: ReactNode;
  /** Text of the confirm button, e.g. "Yes, delete". */
  confirmLabel: string;
  /** Accessible name of the confirmation group, e.g. "Confirm deleting erin". */
  groupLabel: string;
  onConfirm: () => Promise<unknown>;
  /** Another action of the page is running: the confirm button waits. */
  busy?: boolean;
  disabled?: boolean;
}) {
  const [open, setOpen] = useState(false);
  const [running, setRunning] = useState(false);
  const trigger = useRef<HTMLButtonElement>(null);
  const refocus = useRef(false);
  const mounted = useRef(true);

  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);
  useEffect(() => {
    if (!open && refocus.current) {
      refocus.current = false;
      trigger.current?.focus();
    }
  }, [open]);

  const close = (): void => {
    refocus.current = true;
    setOpen(false);
  };
  const confirm = async (): Promise<void> => {
    setRunning(true);
    try {
      await onConfirm();
    } finally {
      if (mounted.current) {
        setRunning(false);
        close();
      }
    }
  };
  const onKeyDown = (e: KeyboardEvent<HTMLSpanElement>): void => {
    if (e.key === 'Escape' && !running) {
      e.stopPropagation();
      close();
    }
  };

  if (!open) {
    return (
      <button ref={trigger} type="button" className="button small danger" disabled={disabled} onClick={() => setOpen(true)}>
        {label}
      </button>
    );
  }
  return (
    <span className="row-form" role="group" aria-label={groupLabel} aria-busy={running} onKeyDown={onKeyDown}>
      {question}
      <button type="button" className="button small danger" autoFocus disabled={busy || running} onClick={() => void confirm()}>
        {confirmLabel}
      </button>
      <button type="button" className="button small" disabled={running} onClick={close}>
        Cancel
      </button>
    </span>
  );
}
