import type { ReactNode } from 'react';

type Props = {
  id: string;
  title: string;
  loading: boolean;
  error: Error | null;
  empty?: boolean;
  emptyText?: string;
  onRetry?: () => void;
  actions?: ReactNode;
  className?: string;
  children?: ReactNode;
};

/** A dashboard card with its loading, empty and error states. */
export function Widget({ id, title, loading, error, empty, emptyText, onRetry, actions, className, children }: Props) {
  let body: ReactNode;
  let state = 'ready';
  if (error) {
    state = 'error';
    const missing = (error as { status?: number }).status === 404;
    body = (
      <div className="state state-error" role="alert">
        <p>
          {missing ? 'This data is not available from the server yet.' : 'Could not load this widget.'}{' '}
          <span className="muted">{error.message}</span>
        </p>
        {onRetry && (
          <button type="button" onClick={onRetry}>
            Retry
          </button>
        )}
      </div>
    );
  } else if (loading && (empty || empty === undefined)) {
    state = 'loading';
    body = (
      <div className="state state-loading" role="status">
        <span className="spinner" aria-hidden="true" /> Loading…
      </div>
    );
  } else if (empty) {
    state = 'empty';
    body = (
      <div className="state state-empty" role="status">
        {emptyText ?? 'Nothing to show for this selection.'}
      </div>
    );
  } else body = children;
  return (
    <section
      className={`widget ${className ?? ''}`}
      aria-labelledby={`${id}-title`}
      data-widget={id}
      data-state={state}
      aria-busy={loading}
    >
      <div className="widget-head">
        <h2 id={`${id}-title`}>{title}</h2>
        {actions && <div className="widget-actions">{actions}</div>}
      </div>
      <div className="widget-body">{body}</div>
    </section>
  );
}
