import { Readable } from 'node:stream'
import sharp from 'sharp'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { decompressionBomb, formBody, image, sendForm, storedKeys } from '../test-support/files.js'

const PICTURES = '/api/collections/pictures/records'
const formats = ['jpeg', 'png', 'webp', 'gif'] as const

/** Sizes of a 400×300 original, for each size the field offers. */
const sizes = [
  { thumb: '100x100', width: 100, height: 100 },
  { thumb: '200x0', width: 200, height: 150 },
  { thumb: '0x30', width: 40, height: 30 },
  { thumb: '50x50f', width: 50, height: 38 },
  { thumb: '40x40t', width: 40, height: 40 },
  { thumb: '1000x0', width: 400, height: 300 },
]

/** A 40×120 PNG, red above and blue below: which half a crop kept shows in its colour. */
function twoColours(): Promise<Buffer> {
  const half = (colour: string) =>
    sharp({ create: { width: 40, height: 60, channels: 3, background: colour } })
      .png()
      .toBuffer()
  return Promise.all([half('#ff0000'), half('#0000ff')]).then(([red, blue]) =>
    sharp({ create: { width: 40, height: 120, channels: 3, background: '#000000' } })
      .composite([
        { input: red!, top: 0, left: 0 },
        { input: blue!, top: 60, left: 0 },
      ])
      .png()
      .toBuffer(),
  )
}

/**
 * A JPEG that claims 20000×20000 pixels in a frame header placed behind 240 KB of comments:
 * too far in for the check at upload, so only the thumbnailer can see the size.
 */
async function lateHeaderBomb(): Promise<Buffer> {
  const jpeg = await image('jpeg', 64, 48)
  const comment = Buffer.alloc(4 + 60_000, 0x20)
  comment.set([0xff, 0xfe], 0)
  comment.writeUInt16BE(60_002, 2)
  const bomb = Buffer.concat([jpeg.subarray(0, 2), comment, comment, comment, comment, jpeg.subarray(2)])
  // Walk the segments to the start-of-frame one (SOF0 to SOF2) and rewrite its height and width.
  for (let at = 2; at < bomb.length; at += 2 + bomb.readUInt16BE(at + 2)) {
    if (bomb[at] !== 0xff) throw new Error('not a JPEG segment')
    if (bomb[at + 1]! >= 0xc0 && bomb[at + 1]! <= 0xc2) {
      bomb.writeUInt16BE(20_000, at + 5)
      bomb.writeUInt16BE(20_000, at + 7)
      return bomb
    }
  }
  throw new Error('no start of frame')
}

describe.each(testDialects)('thumbnails on %s', (kind) => {
  let t: TestApp
  let collectionId: string
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    collectionId = (
      await createCollection(t, {
        name: 'pictures',
        fields: [
          {
            name: 'picture',
            type: 'file',
            mimeTypes: ['image/*'],
            thumbs: ['200x0', '0x30', '50x50f', '40x40t', '40x40b', '1000x0'],
          },
          { name: 'other', type: 'file', thumbs: ['300x300'] },
        ],
        viewRule: '',
      })
    ).id
  })
  afterEach(async () => t?.close())

  async function upload(field: string, name: string, bytes: Buffer | string) {
    const response = await sendForm(t, 'POST', PICTURES, [[field, { name, bytes }]])
    expect(response.statusCode, response.body).toBe(201)
    const record = response.json()
    return { id: record.id as string, name: record[field] as string }
  }
  const thumbUrl = (file: { id: string; name: string }, thumb: string) =>
    `/api/files/pictures/${file.id}/${file.name}?thumb=${thumb}`
  const thumbKeys = async () => (await storedKeys(t)).filter((key) => key.includes('/thumbs/'))

  test.for(formats)('%s thumbnails have the type of the original and the asked size', async (format) => {
    const file = await upload('picture', `photo.${format}`, await image(format, 400, 300))
    for (const { thumb, width, height } of sizes) {
      const response = await t.request({ method: 'GET', url: thumbUrl(file, thumb), auth: null })
      expect(response.statusCode, `${thumb}: ${response.body}`).toBe(200)
      expect(response.headers['content-type']).toBe(`image/${format}`)
      expect(response.headers.etag).toBe(`"${file.name}-${thumb}"`)
      expect(response.headers['content-length']).toBe(String(response.rawPayload.length))
      const metadata = await sharp(response.rawPayload).metadata()
      expect({ thumb, format: metadata.format, width: metadata.width, height: metadata.height }).toEqual({
        thumb,
        format,
        width,
        height,
      })
    }
    expect(await thumbKeys()).toEqual(
      sizes.map(({ thumb }) => `${collectionId}/thumbs/${file.name}/${thumb}`).sort(),
    )
  })

  test('a crop keeps the centre, the top or the bottom as the size says', async () => {
    const file = await upload('picture', 'halves.png', await twoColours())
    const colourOf = async (thumb: string) => {
      const response = await t.request({ method: 'GET', url: thumbUrl(file, thumb) })
      expect(response.statusCode, response.body).toBe(200)
      const { data, info } = await sharp(response.rawPayload).raw().toBuffer({ resolveWithObject: true })
      const pixel = (at: number) => [...data.subarray(at, at + 3)]
      return { top: pixel(0), bottom: pixel(data.length - info.channels) }
    }
    expect(await colourOf('40x40t')).toEqual({ top: [255, 0, 0], bottom: [255, 0, 0] })
    expect(await colourOf('40x40b')).toEqual({ top: [0, 0, 255], bottom: [0, 0, 255] })
    expect(await colourOf('100x100')).toEqual({ top: [255, 0, 0], bottom: [0, 0, 255] })
  })

  test('a thumbnail is made once and served from storage after', async () => {
    const file = await upload('picture', 'once.png', await image('png', 400, 300))
    const [first, second] = await Promise.all(
      [1, 2].map(() => t.request({ method: 'GET', url: thumbUrl(file, '200x0'), auth: null })),
    )
    expect(first!.statusCode).toBe(200)
    expect(second!.rawPayload.equals(first!.rawPayload)).toBe(true)
    expect(await thumbKeys()).toEqual([`${collectionId}/thumbs/${file.name}/200x0`])
    // Without the original, only a thumbnail already in storage can still be served.
    await t.app.plinth.files.storage.delete([`${collectionId}/${file.name}`])
    const again = await t.request({ method: 'GET', url: thumbUrl(file, '200x0'), auth: null })
    expect(again.statusCode).toBe(200)
    expect(again.rawPayload.equals(first!.rawPayload)).toBe(true)
    expect(again.headers.etag).toBe(first!.headers.etag)
    const revalidated = await t.request({
      method: 'GET',
      url: thumbUrl(file, '200x0'),
      headers: {
        'if-none-match': String(first!.headers.etag),
      },
      auth: null,
    })
    expect(revalidated.statusCode).toBe(304)
    const sinceFirst = await t.request({
      method: 'GET',
      url: thumbUrl(file, '200x0'),
      headers: { 'if-modified-since': String(first!.headers['last-modified']) },
      auth: null,
    })
    expect(sinceFirst.statusCode).toBe(304)
  })

  test('the original keeps its own validators beside its thumbnails', async () => {
    const png = await image('png', 400, 300)
    const file = await upload('picture', 'original.png', png)
    const thumb = await t.request({ method: 'GET', url: thumbUrl(file, '100x100'), auth: null })
    const original = await t.request({
      method: 'GET',
      url: `/api/files/pictures/${file.id}/${file.name}`,
      headers: { 'if-none-match': String(thumb.headers.etag) },
      auth: null,
    })
    expect(original.statusCode).toBe(200)
    expect(original.rawPayload.equals(png)).toBe(true)
    const empty = await t.request({ method: 'GET', url: thumbUrl(file, ''), auth: null })
    expect(empty.rawPayload.equals(png)).toBe(true)
  })

  test('sizes the field does not offer, and files that are not raster images, are answered with the original', async () => {
    const pngBytes = await image('png', 400, 300)
    const png = await upload('picture', 'a.png', pngBytes)
    const svgBytes = '<svg xmlns="http://www.w3.org/2000/svg"></svg>'
    const svg = await upload('picture', 'a.svg', svgBytes)
    const text = await upload('other', 'a.txt', 'plain words')
    const cases: Array<[{ id: string; name: string }, string, Buffer | string]> = [
      [png, '300x300', pngBytes],
      [png, '100x100f', pngBytes],
      [png, '200x00', pngBytes],
      [svg, '100x100', svgBytes],
      [text, '100x100', 'plain words'],
      [text, '300x300', 'plain words'],
    ]
    for (const [file, thumb, original] of cases) {
      const response = await t.request({ method: 'GET', url: thumbUrl(file, thumb), auth: null })
      expect(response.statusCode, `${file.name}?thumb=${thumb}`).toBe(200)
      expect(response.rawPayload.equals(Buffer.from(original)), `${file.name}?thumb=${thumb}`).toBe(true)
      expect(response.headers.etag).toBe(`"${file.name}"`)
    }
    expect(await thumbKeys()).toEqual([])
  })

  test('a thumb that is not a size at all is a 400 naming thumb', async () => {
    const png = await upload('picture', 'a.png', await image('png', 400, 300))
    for (const thumb of ['200X0', '0x0', '-1x10', '99999x99999', '200x0%20', 'x'.repeat(500)]) {
      const response = await t.request({ method: 'GET', url: thumbUrl(png, thumb), auth: null })
      expect(response.statusCode, `?thumb=${thumb}`).toBe(400)
      expect(response.headers['content-type']).toContain('application/problem+json')
      expect(response.json().errors.thumb.code).toBe('invalid_query')
    }
    expect(await thumbKeys()).toEqual([])
  })

  test('a decompression bomb is refused at upload, and nothing is stored', async () => {
    const response = await sendForm(t, 'POST', PICTURES, [
      ['picture', { name: 'bomb.png', bytes: decompressionBomb() }],
    ])
    expect(response.statusCode).toBe(400)
    expect(response.headers['content-type']).toContain('application/problem+json')
    expect(response.json().errors.picture.code).toBe('image_too_large')
    await t.app.plinth.jobs.drain()
    expect(await storedKeys(t)).toEqual([])
  })

  test('an image too large to decode, whose size the upload could not see, is a 422 when thumbnailed', async () => {
    // Sent in pieces as a network would deliver it: one injected buffer would reach the upload whole.
    const { payload, headers } = await formBody([
      ['picture', { name: 'late.jpg', bytes: await lateHeaderBomb() }],
    ])
    const pieces = Array.from({ length: Math.ceil(payload.length / 16_384) }, (_, index) =>
      payload.subarray(index * 16_384, (index + 1) * 16_384),
    )
    const created = await t.request({
      method: 'POST',
      url: PICTURES,
      payload: Readable.from(pieces),
      headers,
    })
    expect(created.statusCode, created.body).toBe(201)
    const file = { id: created.json().id as string, name: created.json().picture as string }
    const response = await t.request({ method: 'GET', url: thumbUrl(file, '100x100'), auth: null })
    expect(response.statusCode, response.body).toBe(422)
    expect(response.headers['content-type']).toContain('application/problem+json')
    expect(response.json()).toMatchObject({ status: 422, detail: expect.stringMatching(/pixel limit/) })
    expect(response.json().type).toMatch(/image_unprocessable$/)
    expect(await thumbKeys()).toEqual([])
    const original = await t.request({ method: 'GET', url: `/api/files/pictures/${file.id}/${file.name}` })
    expect(original.statusCode).toBe(200)
  })

  test('a broken image is a 422 when thumbnailed, and the next request tries again', async () => {
    const png = await image('png', 400, 300)
    const file = await upload('picture', 'broken.png', png.subarray(0, png.length - 40))
    for (const attempt of [1, 2]) {
      const response = await t.request({ method: 'GET', url: thumbUrl(file, '100x100'), auth: null })
      expect(response.statusCode, `attempt ${attempt}: ${response.body}`).toBe(422)
      expect(response.json().type).toMatch(/image_unprocessable$/)
    }
    expect(await thumbKeys()).toEqual([])
  })
})
