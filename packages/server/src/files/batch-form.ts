import { createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { FastifyRequest } from 'fastify'
import '@fastify/multipart'
import { BadRequestError, PlinthError, ValidationError } from '../errors/index.js'
import { type FormLimits, formParts, JSON_PAYLOAD, parseJsonPayload, parserError } from './form.js'

/** `requests.<index>.<field>` or `requests.<index>.<field>+`, as the PocketBase SDK names a batch's files. */
const FILE_PART = /^requests\.(0|[1-9]\d{0,3})\.([A-Za-z][A-Za-z0-9_]*\+?)$/

/** A file of a batch, kept in a temporary folder until the payload says where it goes. */
export interface SpooledFile {
  /** The batch request it belongs to. */
  index: number
  /** The form key within that request: `field` or `field+`. */
  key: string
  filename: string
  path: string
}

export interface BatchForm {
  /** The parsed `@jsonPayload` part. */
  payload: Record<string, unknown>
  files: SpooledFile[]
  /** Removes the temporary folder; call it once the files were stored or refused. */
  dispose(): Promise<void>
}

/**
 * Reads a batch sent as multipart/form-data: `@jsonPayload` holds `{requests: […]}` and
 * each file is a part named `requests.<index>.<field>`. The PocketBase SDK sends the files
 * before the payload that says which collection they are for, so each is written to a
 * temporary folder as it arrives, counting against the request's upload limit, and
 * checked and stored once the payload is known.
 */
export async function readBatchForm(
  request: FastifyRequest,
  limits: FormLimits & { maxUploadBytes: number },
): Promise<BatchForm> {
  const folder = await mkdtemp(join(tmpdir(), 'plinth-batch-'))
  const dispose = () => rm(folder, { recursive: true, force: true })
  const files: SpooledFile[] = []
  let payload: Record<string, unknown> | undefined
  let remaining = limits.maxUploadBytes
  const parts = formParts(request, limits)
  try {
    for await (const part of parts) {
      const name = String(part.fieldname ?? '')
      if (part.type === 'file') {
        const match = FILE_PART.exec(name)
        if (!match) {
          part.file.resume()
          throw new ValidationError({
            [name.slice(0, 100)]: {
              code: 'unknown_field',
              message: 'must be named requests.<index>.<field>',
            },
          })
        }
        const path = join(folder, String(files.length))
        const counted = new Transform({
          transform(chunk: Buffer, _encoding, done) {
            remaining -= chunk.length
            if (remaining < 0)
              return done(
                new PlinthError(
                  413,
                  'body_too_large',
                  'The files of this request are larger than the upload limit.',
                ),
              )
            done(null, chunk)
          },
        })
        await pipeline(part.file, counted, createWriteStream(path))
        files.push({ index: Number(match[1]), key: match[2]!, filename: part.filename, path })
        continue
      }
      if (name !== JSON_PAYLOAD)
        throw new ValidationError({
          [name.slice(0, 100)]: {
            code: 'unknown_field',
            message: 'a batch form holds @jsonPayload and files named requests.<index>.<field>',
          },
        })
      if (part.valueTruncated)
        throw new ValidationError({
          [JSON_PAYLOAD]: { code: 'too_long', message: `must be at most ${limits.maxValueBytes} bytes` },
        })
      if (payload !== undefined) throw new BadRequestError('The form holds @jsonPayload more than once.')
      payload = parseJsonPayload(String(part.value))
    }
    if (payload === undefined)
      throw new BadRequestError(
        'The form needs a @jsonPayload part holding {"requests": […]}.',
        'validation_failed',
        {
          [JSON_PAYLOAD]: { code: 'required', message: 'is required' },
        },
      )
    return { payload, files, dispose }
  } catch (error) {
    await dispose()
    throw parserError(error)
  }
}
