/** The technical reason behind a message in plain words, one click away. */
export function ErrorDetail({ detail }: { detail: string | undefined }) {
  if (!detail) return null;
  return (
    <details className="error-detail" data-testid="error-detail">
      <summary>Technical reason</summary>
      {detail}
    </details>
  );
}
