import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { countRecords, createCollection, createRecord } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'

describe.each(testDialects)('relations on %s', (kind) => {
  let t: TestApp
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    await createCollection(t, { name: 'companies', fields: [{ name: 'name', type: 'text' }] })
    await createCollection(t, {
      name: 'people',
      fields: [
        { name: 'name', type: 'text' },
        { name: 'employer', type: 'relation', collection: 'companies', onDelete: 'set-null' },
        { name: 'mentor', type: 'relation', collection: 'people', onDelete: 'set-null' },
      ],
    })
    await createCollection(t, {
      name: 'projects',
      fields: [
        { name: 'name', type: 'text' },
        { name: 'owner', type: 'relation', collection: 'people', onDelete: 'restrict' },
        { name: 'members', type: 'relation', collection: 'people', maxSelect: 10, onDelete: 'set-null' },
        { name: 'sponsors', type: 'relation', collection: 'companies', maxSelect: 5, onDelete: 'cascade' },
      ],
    })
  })
  afterEach(async () => t?.close())

  const url = (collection: string, id?: string) =>
    `/api/collections/${collection}/records${id ? `/${id}` : ''}`

  test('multi relations keep their order and expand, nested', async () => {
    const acme = await createRecord(t, 'companies', { name: 'Acme' })
    const ann = await createRecord(t, 'people', { name: 'Ann', employer: acme.id })
    const ben = await createRecord(t, 'people', { name: 'Ben', mentor: ann.id })
    const project = await createRecord(t, 'projects', {
      name: 'P',
      owner: ann.id,
      members: [ben.id, ann.id],
      sponsors: [acme.id],
    })
    expect(project.members).toEqual([ben.id, ann.id])
    const view = await t.request({
      method: 'GET',
      url: `${url('projects', project.id)}?expand=members.mentor.employer,owner`,
    })
    const body = view.json()
    expect(body.expand.members.map((m: any) => m.name)).toEqual(['Ben', 'Ann'])
    expect(body.expand.members[0].expand.mentor.expand.employer.name).toBe('Acme')
    expect(body.expand.owner.name).toBe('Ann')
    const filtered = await t.request({
      method: 'GET',
      url: `${url('projects')}?filter=${encodeURIComponent('members.name ?= "Ben"')}`,
    })
    expect(filtered.json().totalItems).toBe(1)
  })

  test('set-null clears a single relation and removes an id from a list', async () => {
    const acme = await createRecord(t, 'companies', { name: 'Acme' })
    const ann = await createRecord(t, 'people', { name: 'Ann', employer: acme.id })
    const ben = await createRecord(t, 'people', { name: 'Ben' })
    const project = await createRecord(t, 'projects', { name: 'P', members: [ann.id, ben.id] })
    await t.request({ method: 'DELETE', url: url('companies', acme.id) })
    expect((await t.request({ method: 'GET', url: url('people', ann.id) })).json().employer).toBeNull()
    expect((await t.request({ method: 'DELETE', url: url('people', ben.id) })).statusCode).toBe(204)
    expect((await t.request({ method: 'GET', url: url('projects', project.id) })).json().members).toEqual([
      ann.id,
    ])
  })

  test('restrict refuses to delete a referenced record and changes nothing', async () => {
    const ann = await createRecord(t, 'people', { name: 'Ann' })
    await createRecord(t, 'projects', { name: 'P', owner: ann.id })
    const response = await t.request({ method: 'DELETE', url: url('people', ann.id) })
    expect(response.statusCode).toBe(400)
    expect(response.headers['content-type']).toContain('application/problem+json')
    expect(await countRecords(t, 'people')).toBe(1)
  })

  test('cascade on a multi relation deletes the owning records', async () => {
    const acme = await createRecord(t, 'companies', { name: 'Acme' })
    const other = await createRecord(t, 'companies', { name: 'Other' })
    await createRecord(t, 'projects', { name: 'P1', sponsors: [acme.id] })
    await createRecord(t, 'projects', { name: 'P2', sponsors: [other.id] })
    expect((await t.request({ method: 'DELETE', url: url('companies', acme.id) })).statusCode).toBe(204)
    const left = (await t.request({ method: 'GET', url: url('projects') }))
      .json()
      .items.map((p: any) => p.name)
    expect(left).toEqual(['P2'])
  })

  test('cascade on a single relation deletes the owning records', async () => {
    await createCollection(t, {
      name: 'badges',
      fields: [{ name: 'holder', type: 'relation', collection: 'people', onDelete: 'cascade' }],
    })
    const ann = await createRecord(t, 'people', { name: 'Ann' })
    await createRecord(t, 'badges', { holder: ann.id })
    await t.request({ method: 'DELETE', url: url('people', ann.id) })
    expect(await countRecords(t, 'badges')).toBe(0)
  })

  test('dangling ids in a multi relation are a 400 naming the field', async () => {
    const response = await t.request({
      method: 'POST',
      url: url('projects'),
      payload: { name: 'P', members: ['01890a5d-ac96-774b-bcce-b302099a8057'] },
    })
    expect(response.statusCode).toBe(400)
    expect(response.json().errors.members.code).toBe('invalid_relation')
    expect(await countRecords(t, 'projects')).toBe(0)
  })

  test('a create names only the relation fields whose ids are missing, and stores nothing', async () => {
    const ann = await createRecord(t, 'people', { name: 'Ann' })
    const acme = await createRecord(t, 'companies', { name: 'Acme' })
    const missing = '01890a5d-ac96-774b-bcce-b302099a8057'
    const response = await t.request({
      method: 'POST',
      url: url('projects'),
      payload: { name: 'P', owner: missing, members: [ann.id], sponsors: [acme.id, missing] },
    })
    expect(response.statusCode).toBe(400)
    const { errors } = response.json()
    expect(Object.keys(errors).sort()).toEqual(['owner', 'sponsors'])
    expect(errors.owner.message).toContain(missing)
    expect(errors.sponsors.message).toBe(`no companies record with id ${missing}`)
    expect(await countRecords(t, 'projects')).toBe(0)

    const linked = await t.request({
      method: 'POST',
      url: url('projects'),
      payload: { name: 'P', owner: ann.id, members: [ann.id], sponsors: [acme.id] },
    })
    expect(linked.statusCode).toBe(201)
    expect(linked.json()).toMatchObject({ owner: ann.id, members: [ann.id], sponsors: [acme.id] })
  })

  test('an update to a missing relation is a 400 naming the field, and changes nothing', async () => {
    const acme = await createRecord(t, 'companies', { name: 'Acme' })
    const ann = await createRecord(t, 'people', { name: 'Ann', employer: acme.id })
    const missing = '01890a5d-ac96-774b-bcce-b302099a8059'
    const response = await t.request({
      method: 'PATCH',
      url: url('people', ann.id),
      payload: { name: 'Ann B', employer: missing },
    })
    expect(response.statusCode).toBe(400)
    expect(response.json().errors.employer).toMatchObject({ code: 'invalid_relation' })
    expect(Object.keys(response.json().errors)).toEqual(['employer'])
    const stored = (await t.request({ method: 'GET', url: url('people', ann.id) })).json()
    expect(stored).toMatchObject({ name: 'Ann', employer: acme.id })
    expect(stored.updated).toBe(ann.updated)

    const other = await createRecord(t, 'companies', { name: 'Other' })
    const moved = await t.request({
      method: 'PATCH',
      url: url('people', ann.id),
      payload: { employer: other.id },
    })
    expect(moved.statusCode).toBe(200)
    expect(moved.json().employer).toBe(other.id)
  })

  test('a relation to the record being created is dangling: it does not exist yet', async () => {
    const id = '01890a5d-ac96-774b-bcce-b302099a8058'
    const response = await t.request({
      method: 'POST',
      url: url('people'),
      payload: { id, name: 'Self', mentor: id },
    })
    expect(response.statusCode).toBe(400)
    expect(response.json().errors.mentor.code).toBe('invalid_relation')
    expect(await countRecords(t, 'people')).toBe(0)
  })

  test('expand deeper than six levels is refused', async () => {
    const response = await t.request({
      method: 'GET',
      url: `${url('people')}?expand=mentor.mentor.mentor.mentor.mentor.mentor.mentor`,
    })
    expect(response.statusCode).toBe(400)
    const ok = await t.request({
      method: 'GET',
      url: `${url('people')}?expand=mentor.mentor.mentor.mentor.mentor.mentor`,
    })
    expect(ok.statusCode).toBe(200)
  })
})
