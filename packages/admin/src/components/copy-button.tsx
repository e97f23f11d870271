import { useState } from 'react'

/** Copies a value to the clipboard and says so. */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null)
  return (
    <>
      <button
        type="button"
        onClick={() =>
          navigator.clipboard.writeText(text).then(
            () => setCopied('yes'),
            () => setCopied('failed'),
          )
        }
      >
        {label}
      </button>
      <span role="status">
        {copied === 'yes' && 'Copied.'}
        {copied === 'failed' && 'The browser refused the clipboard: select the text and copy it.'}
      </span>
    </>
  )
}
