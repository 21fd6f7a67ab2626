/** A button-looking file picker (pictures by default); the input stays a real <input type="file"> for tests and a11y. */
export function FileButton({
  testId,
  label,
  onFile,
  className = '',
  accept = 'image/png,image/jpeg,image/webp',
}: {
  testId: string;
  label: string;
  onFile: (file: File) => void;
  className?: string;
  /** What the picker offers (pictures unless said). */
  accept?: string;
}) {
  return (
    <label className={`file-button ${className}`}>
      {label}
      <input
        data-testid={testId}
        type="file"
        accept={accept}
        onChange={(e) => {
          const file = e.target.files?.[0];
          if (file) onFile(file);
          // The same file can be chosen again.
          e.target.value = '';
        }}
      />
    </label>
  );
}
