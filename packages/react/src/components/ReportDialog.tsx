/**
 * Reporting a message or a user to the app's moderators: a modal dialog with the protocol's reasons and an
 * optional note, sent with `client.report`, and a confirmation once the server has stored it.
 */
import type { ReportReason, ReportTarget } from '@natter/client';
import type { FormEvent, ReactNode } from 'react';
import { useEffect, useId, useRef, useState } from 'react';
import { useChatClient } from '../provider.js';

/**
 * What each of the protocol's report reasons reads as, in the order offered. Typed against `ReportReason`,
 * so a reason added to the protocol fails the build until it has a label here.
 */
export const REPORT_REASON_LABELS: Readonly<Record<ReportReason, string>> = Object.freeze({
  spam: 'Spam or scam',
  harassment: 'Harassment or bullying',
  hate: 'Hate speech',
  sexual: 'Sexual content',
  violence: 'Violence or threats',
  self_harm: 'Self-harm',
  impersonation: 'Pretending to be someone else',
  other: 'Something else',
});

/** The longest note the server takes (`MODERATION_LIMITS.maxReportNoteChars`). */
const MAX_NOTE_CHARS = 1000;

/** Props of {@link ReportDialog}. */
export interface ReportDialogProps {
  /** What is reported: a message (channel and seq) or a user. */
  target: ReportTarget;
  /** Who is reported, for the title ("Report Bob's message"). */
  name?: string;
  /** Called when the dialog closes (Close, Cancel, Escape), reported or not. */
  onClose(): void;
  /** Called once the server stored the report. */
  onReported?(): void;
}

type Phase = { kind: 'editing'; error?: string } | { kind: 'sending' } | { kind: 'done' };

/**
 * A modal dialog (native `<dialog>`: focus kept inside, Escape closes, focus returns to the opener) to
 * report a message or a user: one reason from the protocol's list, an optional note of up to 1,000
 * characters, then "Thanks. The moderators will review it." Errors (offline, the report limit) are shown
 * in the dialog and the form stays filled in.
 */
export function ReportDialog({ target, name, onClose, onReported }: ReportDialogProps): ReactNode {
  const client = useChatClient();
  const id = useId();
  const ref = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState<ReportReason | undefined>(undefined);
  const [note, setNote] = useState('');
  const [phase, setPhase] = useState<Phase>({ kind: 'editing' });
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  const what = target.kind === 'message' ? 'message' : 'user';
  const title = name
    ? target.kind === 'message'
      ? `Report ${name}’s message`
      : `Report ${name}`
    : `Report this ${what}`;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!reason || phase.kind === 'sending') return;
    setPhase({ kind: 'sending' });
    const text = note.trim();
    client.report(target, reason, text === '' ? undefined : text).then(
      () => {
        setPhase({ kind: 'done' });
        onReported?.();
      },
      (err: unknown) => setPhase({ kind: 'editing', error: describeReportError(err) }),
    );
  };
  return (
    <dialog
      ref={ref}
      className="natter-dialog"
      aria-labelledby={`${id}-title`}
      onClose={onClose}
      onKeyDown={(event) => event.stopPropagation()}
    >
      <h2 id={`${id}-title`} className="natter-dialog-title">
        {title}
      </h2>
      {phase.kind === 'done' ? (
        <div className="natter-dialog-body">
          <p role="status" className="natter-report-done">
            Thanks. Your report was sent; the moderators will review it. The person is not told who reported
            them.
          </p>
          <div className="natter-dialog-buttons">
            {/* biome-ignore lint/a11y/noAutofocus: the confirmation replaces the form the focus was in */}
            <button type="button" autoFocus onClick={() => ref.current?.close()}>
              Close
            </button>
          </div>
        </div>
      ) : (
        <form className="natter-dialog-body" onSubmit={submit}>
          <fieldset className="natter-report-reasons">
            <legend>Why are you reporting this {what}?</legend>
            {(Object.keys(REPORT_REASON_LABELS) as ReportReason[]).map((value) => (
              <label key={value}>
                <input
                  type="radio"
                  name={`${id}-reason`}
                  value={value}
                  checked={reason === value}
                  onChange={() => setReason(value)}
                  required
                />
                {REPORT_REASON_LABELS[value]}
              </label>
            ))}
          </fieldset>
          <label className="natter-report-note" htmlFor={`${id}-note`}>
            Anything the moderators should know? (optional)
          </label>
          <textarea
            id={`${id}-note`}
            rows={3}
            maxLength={MAX_NOTE_CHARS}
            value={note}
            onChange={(event) => setNote(event.target.value)}
          />
          {phase.kind === 'editing' && phase.error ? (
            <p className="natter-message-error" role="alert">
              {phase.error}
            </p>
          ) : null}
          <div className="natter-dialog-buttons">
            <button type="submit" className="natter-danger" disabled={!reason || phase.kind === 'sending'}>
              {phase.kind === 'sending' ? 'Sending…' : 'Send report'}
            </button>
            <button type="button" onClick={() => ref.current?.close()}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </dialog>
  );
}

function describeReportError(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  switch (code) {
    case 'NATTER_RATE_LIMITED':
      return 'You have sent many reports recently. Try again later.';
    case 'NATTER_UNAVAILABLE':
      return 'The server cannot be reached right now. Try again when you are back online.';
    case 'NATTER_MESSAGE_DELETED':
      return 'This message was deleted. You can still report the person.';
    case 'NATTER_NOT_FOUND':
      return 'This message is no longer available.';
    default:
      return err instanceof Error ? err.message : 'The report could not be sent.';
  }
}
