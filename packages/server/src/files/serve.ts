import { Readable } from 'node:stream'
import { create as contentDisposition } from 'content-disposition'
import type { FastifyReply, FastifyRequest } from 'fastify'
import parseRange from 'range-parser'
import { isInlineSafe } from './content-type.js'
import type { FileStorage } from './storage/index.js'

/** Scripts, plugins, forms and frames are off even when a browser renders a file itself. */
export const FILE_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"

export interface ServedFile {
  key: string
  size: number
  modified: Date
  type: string
  /** The name offered to the browser. */
  downloadName: string
  etag: string
  /** Anyone with the link may read it: shared caches may keep it. */
  isPublic: boolean
  download: boolean
}

function notModified(request: FastifyRequest, file: ServedFile): boolean {
  const ifNoneMatch = request.headers['if-none-match']
  // RFC 9110 §13.1.2: the weak comparison, so a tag a compressing proxy weakened still matches.
  if (ifNoneMatch !== undefined)
    return ifNoneMatch.split(',').some((tag) => {
      const trimmed = tag.trim()
      return trimmed === '*' || trimmed.replace(/^W\//, '') === file.etag
    })
  const since = request.headers['if-modified-since']
  if (since === undefined) return false
  const time = Date.parse(since)
  return !Number.isNaN(time) && Math.floor(file.modified.getTime() / 1000) <= Math.floor(time / 1000)
}

/** The one range to send, `null` for the whole file, or `unsatisfiable`. */
function wantedRange(
  request: FastifyRequest,
  file: ServedFile,
): { start: number; end: number } | null | 'unsatisfiable' {
  const header = request.headers.range
  if (header === undefined || file.size === 0) return null
  const ifRange = request.headers['if-range']
  if (ifRange !== undefined && ifRange !== file.etag) return null
  const ranges = parseRange(file.size, header, { combine: true })
  if (ranges === -1) return 'unsatisfiable'
  // A malformed header, or several ranges: RFC 9110 lets a server answer with the whole file.
  if (ranges === -2 || ranges.type !== 'bytes' || ranges.length !== 1) return null
  return ranges[0]!
}

/**
 * Streams a stored file with the headers browsers and caches need: validators for
 * conditional requests, byte ranges for media and resumed downloads, and a type and
 * disposition that keep any active content from running as a page of this origin.
 */
export async function sendFile(
  request: FastifyRequest,
  reply: FastifyReply,
  storage: FileStorage,
  file: ServedFile,
): Promise<FastifyReply> {
  const inline = !file.download && isInlineSafe(file.type)
  reply
    .header('etag', file.etag)
    .header('last-modified', file.modified.toUTCString())
    .header('cache-control', file.isPublic ? 'public, max-age=86400' : 'private, no-cache')
    .header('accept-ranges', 'bytes')
    .header('content-security-policy', FILE_CSP)
    .header('x-content-type-options', 'nosniff')
    // Files are meant to be embedded by the app's pages, which may live on another origin.
    .header('cross-origin-resource-policy', 'cross-origin')
    .header(
      'content-disposition',
      contentDisposition(file.downloadName, { type: inline ? 'inline' : 'attachment' }),
    )
  if (notModified(request, file)) return reply.code(304).send()
  const type = file.type.startsWith('text/') ? `${file.type}; charset=utf-8` : file.type
  reply.type(
    inline
      ? type
      : file.type.startsWith('text/') || file.type.includes('xml')
        ? 'application/octet-stream'
        : type,
  )
  const range = wantedRange(request, file)
  if (range === 'unsatisfiable')
    return reply.code(416).header('content-range', `bytes */${file.size}`).type('text/plain').send('')
  if (range)
    reply
      .code(206)
      .header('content-range', `bytes ${range.start}-${range.end}/${file.size}`)
      .header('content-length', range.end - range.start + 1)
  else reply.header('content-length', file.size)
  // Fastify answers HEAD from this reply, keeping the length, but drains a stream body to its
  // end first: an empty one spares reading a whole object from storage only to drop it.
  if (request.method === 'HEAD') return reply.send(Readable.from([]))
  return reply.send(await storage.read(file.key, range ?? undefined))
}
