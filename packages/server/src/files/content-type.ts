/** How many leading bytes are read before a file's type is decided (JPEG dimensions can sit past 4 KB). */
export const SNIFF_BYTES = 64 * 1024

export interface DetectedType {
  /** The media type, decided from the bytes. */
  type: string
  /** The extension stored names get for it, without the dot. */
  extension: string
}

const OCTET: DetectedType = { type: 'application/octet-stream', extension: 'bin' }

/**
 * Text types kept as the client named them when the content is plain text; markup is
 * recognised from the content, so HTML named `.csv` is still HTML.
 */
const textByExtension: Record<string, string> = {
  txt: 'text/plain',
  csv: 'text/csv',
  md: 'text/markdown',
  json: 'application/json',
  log: 'text/plain',
}

/** Tags a browser's sniffer takes for HTML (WHATWG MIME Sniffing, "identifying a resource with an unknown MIME type"). */
const HTML_START =
  /^<(!doctype html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p|!--)[\s>/]/i

function isUtf8Text(bytes: Uint8Array): boolean {
  if (bytes.includes(0)) return false
  try {
    // A head cut inside a multi-byte character is still text: drop up to three trailing bytes.
    new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, Math.max(0, bytes.length - 3)))
    return true
  } catch {
    return false
  }
}

function markupType(text: string): DetectedType | undefined {
  const start = text.replace(/^\uFEFF/, '').trimStart()
  const lower = start.slice(0, 1024).toLowerCase()
  if (lower.startsWith('<svg') || (lower.startsWith('<?xml') && lower.includes('<svg')))
    return { type: 'image/svg+xml', extension: 'svg' }
  if (HTML_START.test(start)) return { type: 'text/html', extension: 'html' }
  if (lower.startsWith('<?xml')) return { type: 'application/xml', extension: 'xml' }
  // Markup anywhere in the head is enough for some browsers to render it: treat it as HTML.
  if (/<(script|html|body|iframe|svg)[\s>/]/i.test(start.slice(0, 4096)))
    return { type: 'text/html', extension: 'html' }
  return undefined
}

/** The type of a file from its first bytes; `originalName` only picks among plain text types. */
export async function detectType(head: Uint8Array, originalName: string): Promise<DetectedType> {
  // Loaded with the first upload, not at start: its signature tables take ~50 ms to load.
  const { fileTypeFromBuffer } = await import('file-type')
  const found = await fileTypeFromBuffer(head)
  if (found) return { type: found.mime, extension: found.ext }
  if (head.length === 0 || !isUtf8Text(head))
    return head.length === 0 ? { type: 'text/plain', extension: 'txt' } : OCTET
  const text = new TextDecoder().decode(head)
  const markup = markupType(text)
  if (markup) return markup
  const extension = /\.([a-z0-9]{1,8})$/i.exec(originalName)?.[1]?.toLowerCase() ?? ''
  const type = textByExtension[extension]
  return type ? { type, extension } : { type: 'text/plain', extension: 'txt' }
}

/** Whether `type` is one of the field's allowed types (`image/*` allows every image). */
export function isAllowedType(type: string, allowed: readonly string[] | undefined): boolean {
  if (!allowed || allowed.length === 0) return true
  return allowed.some(
    (entry) => entry === type || (entry.endsWith('/*') && type.startsWith(entry.slice(0, -1))),
  )
}

/**
 * Types a browser shows without running anything; every other type (HTML, SVG, XML,
 * scripts, unknown binaries) is sent as an attachment, so a stored file cannot act as a
 * page of this origin.
 */
const INLINE = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/bmp',
  'application/pdf',
  'text/plain',
  'text/csv',
  'text/markdown',
  'application/json',
])

export function isInlineSafe(type: string): boolean {
  return INLINE.has(type) || type.startsWith('audio/') || type.startsWith('video/')
}

/** Raster images Plinth makes thumbnails of. */
export const THUMBNAIL_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif'])
