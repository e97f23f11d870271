import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import bcrypt from 'bcryptjs'
import Database from 'better-sqlite3'

/**
 * A pb_data folder laid out as PocketBase v0.23+ writes it (migrations/1640988000_init.go,
 * core/collection_model*.go, core/field_*.go): `_collections` with `fields`, `indexes`,
 * five rules and `options` as JSON; a table per collection with PocketBase's column types;
 * dates as `2006-01-02 15:04:05.000Z`; bcrypt password hashes (cost 10, as PocketBase's
 * default); files under storage/<collection id>/<record id>/.
 */

export const POCKETBASE = {
  users: '_pb_users_auth_',
  posts: 'pbc_1125843985',
  comments: 'pbc_533777971',
  stats: 'pbc_2807390291',
  superusers: 'pbc_3142635823',
}

/** Record ids: PocketBase's 15 lower-case letters and digits. */
export const IDS = {
  ann: 'a1nn00000000001',
  bob: 'b0b000000000002',
  hello: 'p0st00000000001',
  annDraft: 'p0st00000000002',
  bobDraft: 'p0st00000000003',
  bobPublic: 'p0st00000000004',
  nice: 'c0mm00000000001',
  reply: 'c0mm00000000002',
  root: 'r00t00000000001',
}

export const PASSWORDS = { ann: 'ann-old-password', bob: 'bob-old-password', root: 'root-old-password' }

/** A 1×1 PNG: the cover of the first post. */
export const COVER = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
)
export const COVER_NAME = 'cover_k3v9x0q2mz.png'
export const NOTES = Buffer.from('first notes\n')

type Json = Record<string, unknown>

const when = '2024-05-01 10:00:00.000Z'
const field = (type: string, name: string, id: string, options: Json = {}): Json => ({
  hidden: false,
  id,
  name,
  presentable: false,
  required: false,
  system: false,
  type,
  ...options,
})
const relation = (name: string, id: string, collectionId: string, maxSelect: number, options: Json = {}) =>
  field('relation', name, id, { cascadeDelete: false, collectionId, maxSelect, minSelect: 0, ...options })
const idField = (id: string) =>
  field('text', 'id', id, {
    autogeneratePattern: '[a-z0-9]{15}',
    max: 15,
    min: 15,
    pattern: '^[a-z0-9]+$',
    primaryKey: true,
    required: true,
    system: true,
  })
const autodates = (suffix: string, system = false) => [
  field('autodate', 'created', `autodate${suffix}1`, { onCreate: true, onUpdate: false, system }),
  field('autodate', 'updated', `autodate${suffix}2`, { onCreate: true, onUpdate: true, system }),
]
const authFields = (suffix: string) => [
  field('password', 'password', `password${suffix}`, {
    cost: 0,
    hidden: true,
    max: 0,
    min: 8,
    pattern: '',
    required: true,
    system: true,
  }),
  field('text', 'tokenKey', `text${suffix}7`, {
    autogeneratePattern: '[a-zA-Z0-9]{50}',
    hidden: true,
    max: 60,
    min: 30,
    pattern: '',
    primaryKey: false,
    required: true,
    system: true,
  }),
  field('email', 'email', `email${suffix}`, {
    exceptDomains: null,
    onlyDomains: null,
    required: true,
    system: true,
  }),
  field('bool', 'emailVisibility', `bool${suffix}1`, { system: true }),
  field('bool', 'verified', `bool${suffix}2`, { system: true }),
]
const authOptions = (options: Json = {}): Json => ({
  authAlert: { emailTemplate: { body: '', subject: '' }, enabled: true },
  authRule: '',
  authToken: { duration: 604800 },
  confirmEmailChangeTemplate: { body: '', subject: '' },
  emailChangeToken: { duration: 1800 },
  fileToken: { duration: 180 },
  manageRule: null,
  mfa: { duration: 1800, enabled: false, rule: '' },
  oauth2: { enabled: false, mappedFields: { avatarURL: '', id: '', name: '', username: '' }, providers: [] },
  otp: { duration: 180, emailTemplate: { body: '', subject: '' }, enabled: false, length: 8 },
  passwordAuth: { enabled: true, identityFields: ['email'] },
  passwordResetToken: { duration: 1800 },
  resetPasswordTemplate: { body: '', subject: '' },
  verificationTemplate: { body: '', subject: '' },
  verificationToken: { duration: 259200 },
  ...options,
})
const authIndexes = (collectionId: string, table: string) => [
  `CREATE UNIQUE INDEX \`idx_tokenKey_${collectionId}\` ON \`${table}\` (\`tokenKey\`)`,
  `CREATE UNIQUE INDEX \`idx_email_${collectionId}\` ON \`${table}\` (\`email\`) WHERE \`email\` != ''`,
]
const rules = (
  list: string | null,
  view = list,
  create: string | null = null,
  update: string | null = null,
  remove: string | null = null,
) => ({
  listRule: list,
  viewRule: view,
  createRule: create,
  updateRule: update,
  deleteRule: remove,
})

interface CollectionRow {
  id: string
  name: string
  type: 'base' | 'auth' | 'view'
  system: boolean
  fields: Json[]
  indexes: string[]
  rules: ReturnType<typeof rules>
  options: Json
  /** The table's columns (none for a view, whose SQL view is made from `options.viewQuery`). */
  columns: string
}

const textColumn = "TEXT DEFAULT '' NOT NULL"
const authColumns = `"password" ${textColumn}, "tokenKey" ${textColumn}, "email" ${textColumn}, "emailVisibility" BOOLEAN DEFAULT FALSE NOT NULL, "verified" BOOLEAN DEFAULT FALSE NOT NULL`
const idColumn = `"id" TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL`
const dateColumns = `"created" ${textColumn}, "updated" ${textColumn}`

function systemCollection(id: string, name: string, extra: Json[]): CollectionRow {
  return {
    id,
    name,
    type: 'base',
    system: true,
    fields: [idField(`text${id}`), ...extra, ...autodates(id, true)],
    indexes: [],
    rules: rules(
      "@request.auth.id != '' && recordRef = @request.auth.id && collectionRef = @request.auth.collectionId",
    ),
    options: {},
    columns: `${idColumn}, ${extra.map((f) => `"${f.name}" ${textColumn}`).join(', ')}, ${dateColumns}`,
  }
}

function collections(): CollectionRow[] {
  const ref = (name: string) => field('text', name, `text${name}`, { required: true, system: true })
  return [
    systemCollection('pbc_2279338944', '_mfas', [ref('collectionRef'), ref('recordRef'), ref('method')]),
    systemCollection('pbc_1638494021', '_otps', [
      ref('collectionRef'),
      ref('recordRef'),
      field('password', 'password', 'password1', { hidden: true, system: true }),
      ref('sentTo'),
    ]),
    systemCollection('pbc_2281828961', '_externalAuths', [
      ref('collectionRef'),
      ref('recordRef'),
      ref('provider'),
      ref('providerId'),
    ]),
    systemCollection('pbc_4275539003', '_authOrigins', [
      ref('collectionRef'),
      ref('recordRef'),
      ref('fingerprint'),
    ]),
    {
      id: POCKETBASE.superusers,
      name: '_superusers',
      type: 'auth',
      system: true,
      fields: [idField('text3208210256'), ...authFields('S'), ...autodates('S', true)],
      indexes: authIndexes(POCKETBASE.superusers, '_superusers'),
      rules: rules(null),
      options: authOptions(),
      columns: `${idColumn}, ${authColumns}, ${dateColumns}`,
    },
    {
      id: POCKETBASE.users,
      name: 'users',
      type: 'auth',
      system: false,
      fields: [
        idField('text3208210257'),
        ...authFields('U'),
        field('text', 'name', 'text1579384326', {
          autogeneratePattern: '',
          max: 255,
          min: 0,
          pattern: '',
          primaryKey: false,
        }),
        field('file', 'avatar', 'file376926767', {
          maxSelect: 1,
          maxSize: 0,
          mimeTypes: ['image/jpeg', 'image/png', 'image/svg+xml', 'image/gif', 'image/webp'],
          protected: false,
          thumbs: null,
        }),
        ...autodates('U'),
      ],
      indexes: authIndexes(POCKETBASE.users, 'users'),
      rules: rules(
        'id = @request.auth.id',
        'id = @request.auth.id',
        '',
        'id = @request.auth.id',
        'id = @request.auth.id',
      ),
      options: authOptions({
        oauth2: {
          enabled: true,
          mappedFields: { avatarURL: 'avatar', id: '', name: 'name', username: '' },
          providers: [{ name: 'google', clientId: 'client', clientSecret: 'secret', pkce: null }],
        },
      }),
      columns: `${idColumn}, ${authColumns}, "name" ${textColumn}, "avatar" ${textColumn}, ${dateColumns}`,
    },
    {
      id: POCKETBASE.posts,
      name: 'posts',
      type: 'base',
      system: false,
      fields: [
        idField('text3208210258'),
        field('text', 'title', 'text724990059', {
          autogeneratePattern: '',
          max: 200,
          min: 1,
          pattern: '',
          primaryKey: false,
          required: true,
        }),
        field('editor', 'body', 'editor3685223346', { convertURLs: false, maxSize: 0 }),
        field('number', 'views', 'number3146412911', { max: null, min: 0, onlyInt: true }),
        field('bool', 'published', 'bool1748787223'),
        field('email', 'contact', 'email1001261735', { exceptDomains: [], onlyDomains: [] }),
        field('url', 'website', 'url1542800728', { exceptDomains: [], onlyDomains: [] }),
        field('date', 'publishedAt', 'date2862495610', { max: '', min: '' }),
        field('select', 'status', 'select2063623452', { maxSelect: 1, values: ['draft', 'live'] }),
        field('select', 'tags', 'select1874629670', { maxSelect: 3, values: ['news', 'tech', 'fun'] }),
        field('json', 'meta', 'json1326724116', { maxSize: 0 }),
        relation('author', 'relation3182418120', POCKETBASE.users, 1),
        relation('editors', 'relation1843675174', POCKETBASE.users, 5),
        field('file', 'cover', 'file3834550803', {
          maxSelect: 1,
          maxSize: 0,
          mimeTypes: [],
          protected: false,
          thumbs: ['100x100'],
        }),
        field('file', 'attachments', 'file2826734521', {
          maxSelect: 3,
          maxSize: 0,
          mimeTypes: [],
          protected: false,
          thumbs: [],
        }),
        field('geoPoint', 'location', 'geoPoint1587448267'),
        ...autodates('P'),
      ],
      indexes: [
        'CREATE INDEX `idx_posts_author` ON `posts` (`author`, `created` DESC)',
        'CREATE UNIQUE INDEX `idx_posts_title` ON `posts` (`title`)',
        'CREATE INDEX `idx_posts_lower_title` ON `posts` (lower(`title`))',
      ],
      rules: rules(
        'published = true || author = @request.auth.id',
        'published = true || author = @request.auth.id || comments_via_post.author ?= @request.auth.id',
        '@request.auth.id != "" && @request.body.author = @request.auth.id',
        'author = @request.auth.id && (@request.body.tags:length <= 3)',
        '@request.headers.x_admin_token = "open sesame"',
      ),
      options: {},
      columns: `${idColumn}, "title" ${textColumn}, "body" ${textColumn}, "views" NUMERIC DEFAULT 0 NOT NULL, "published" BOOLEAN DEFAULT FALSE NOT NULL, "contact" ${textColumn}, "website" ${textColumn}, "publishedAt" ${textColumn}, "status" ${textColumn}, "tags" JSON DEFAULT '[]' NOT NULL, "meta" JSON DEFAULT NULL, "author" ${textColumn}, "editors" JSON DEFAULT '[]' NOT NULL, "cover" ${textColumn}, "attachments" JSON DEFAULT '[]' NOT NULL, "location" JSON DEFAULT '{"lon":0,"lat":0}' NOT NULL, ${dateColumns}`,
    },
    {
      id: POCKETBASE.comments,
      name: 'comments',
      type: 'base',
      system: false,
      fields: [
        idField('text3208210259'),
        relation('post', 'relation1519021197', POCKETBASE.posts, 1, { cascadeDelete: true, required: true }),
        relation('author', 'relation3182418121', POCKETBASE.users, 1),
        relation('parent', 'relation1032740943', POCKETBASE.comments, 1),
        field('text', 'message', 'text3065852031', {
          autogeneratePattern: '',
          max: 0,
          min: 0,
          pattern: '',
          primaryKey: false,
        }),
        ...autodates('C'),
      ],
      indexes: [],
      rules: rules(
        'post.author = @request.auth.id || (post.published = true && @request.auth.id != "")',
        'created >= @yesterday',
        "@request.auth.id != '' && @collection.posts.id ?= @request.body.post",
        'author = @request.auth.id',
        'author = @request.auth.id || post.author = @request.auth.id',
      ),
      options: {},
      columns: `${idColumn}, "post" ${textColumn}, "author" ${textColumn}, "parent" ${textColumn}, "message" ${textColumn}, ${dateColumns}`,
    },
    {
      id: POCKETBASE.stats,
      name: 'post_stats',
      type: 'view',
      system: false,
      fields: [
        field('text', 'id', 'text3208210260', { primaryKey: true, required: true, system: true }),
        field('text', 'title', 'text724990060'),
        field('number', 'total', 'number2392944706'),
      ],
      indexes: [],
      rules: rules('', ''),
      options: {
        viewQuery:
          'SELECT p.id, p.title, COUNT(c.id) AS total FROM posts p LEFT JOIN comments c ON c.post = p.id GROUP BY p.id, p.title',
      },
      columns: '',
    },
  ]
}

/** Rows of the fixture's records, by table. */
function records(): Record<string, Json[]> {
  const hash = (password: string) => bcrypt.hashSync(password, 10)
  const user = (id: string, email: string, password: string, name: string, avatar: string) => ({
    id,
    password: hash(password),
    tokenKey: `${id}${'k'.repeat(35)}`,
    email,
    emailVisibility: 0,
    verified: 1,
    name,
    avatar,
    created: when,
    updated: when,
  })
  const post = (id: string, title: string, author: string, published: number, extra: Json = {}) => ({
    id,
    title,
    body: '',
    views: 0,
    published,
    contact: '',
    website: '',
    publishedAt: '',
    status: '',
    tags: '[]',
    meta: null,
    author,
    editors: '[]',
    cover: '',
    attachments: '[]',
    location: '{"lon":0,"lat":0}',
    created: when,
    updated: when,
    ...extra,
  })
  return {
    _superusers: [
      {
        id: IDS.root,
        password: hash(PASSWORDS.root),
        tokenKey: 'r'.repeat(50),
        email: 'root@example.com',
        emailVisibility: 0,
        verified: 1,
        created: when,
        updated: when,
      },
      {
        id: 'i0000000000000i',
        password: hash('installer'),
        tokenKey: 'i'.repeat(50),
        email: '__pbinstaller@example.com',
        emailVisibility: 0,
        verified: 1,
        created: when,
        updated: when,
      },
    ],
    _externalAuths: [
      {
        id: 'e00000000000001',
        collectionRef: POCKETBASE.users,
        recordRef: IDS.ann,
        provider: 'google',
        providerId: '1234',
        created: when,
        updated: when,
      },
    ],
    users: [
      user(IDS.ann, 'Ann@Example.com', PASSWORDS.ann, 'Ann', ''),
      user(IDS.bob, 'bob@example.com', PASSWORDS.bob, 'Bob', ''),
    ],
    posts: [
      post(IDS.hello, 'Hello', IDS.ann, 1, {
        body: '<p>Hi <script>alert(1)</script></p>',
        views: 12,
        contact: 'Press@Example.com',
        website: 'https://example.com/hello',
        publishedAt: when,
        status: 'live',
        tags: '["news","tech"]',
        meta: '{"pinned":true}',
        editors: JSON.stringify([IDS.bob]),
        cover: COVER_NAME,
        attachments: '["notes_a8f3k2l1m0.txt"]',
        location: '{"lon":1.5,"lat":2.5}',
      }),
      post(IDS.annDraft, 'Ann draft', IDS.ann, 0, { status: 'draft' }),
      post(IDS.bobDraft, 'Bob draft', IDS.bob, 0, { editors: JSON.stringify([IDS.ann, 'zzzzzzzzzzzzzzz']) }),
      post(IDS.bobPublic, 'Bob public', IDS.bob, 1, { cover: 'lost_q1w2e3r4t5.png' }),
    ],
    comments: [
      {
        id: IDS.nice,
        post: IDS.hello,
        author: IDS.bob,
        parent: '',
        message: 'Nice',
        created: when,
        updated: when,
      },
      {
        id: IDS.reply,
        post: IDS.hello,
        author: IDS.ann,
        parent: IDS.nice,
        message: 'Thanks',
        created: when,
        updated: when,
      },
    ],
  }
}

/** Writes the pb_data folder into `dir` (data.db and storage/). */
export function writePocketBaseData(dir: string): void {
  const db = new Database(join(dir, 'data.db'))
  db.pragma('journal_mode = WAL')
  db.exec(`
    CREATE TABLE _migrations (file VARCHAR(255) PRIMARY KEY NOT NULL, applied INTEGER NOT NULL);
    CREATE TABLE _params (id TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL, value JSON DEFAULT NULL,
      created TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL, updated TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL);
    CREATE TABLE _collections (
      id TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL,
      system BOOLEAN DEFAULT FALSE NOT NULL,
      type TEXT DEFAULT "base" NOT NULL,
      name TEXT UNIQUE NOT NULL,
      fields JSON DEFAULT "[]" NOT NULL,
      indexes JSON DEFAULT "[]" NOT NULL,
      listRule TEXT DEFAULT NULL,
      viewRule TEXT DEFAULT NULL,
      createRule TEXT DEFAULT NULL,
      updateRule TEXT DEFAULT NULL,
      deleteRule TEXT DEFAULT NULL,
      options JSON DEFAULT "{}" NOT NULL,
      created TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL,
      updated TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL
    );
    CREATE INDEX IF NOT EXISTS idx__collections_type on _collections (type);
  `)
  db.prepare('INSERT INTO _migrations (file, applied) VALUES (?, ?)').run(
    '1640988000_init.go',
    1714557600000000,
  )
  const insert =
    db.prepare(`INSERT INTO _collections (id, system, type, name, fields, indexes, listRule, viewRule,
    createRule, updateRule, deleteRule, options, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
  for (const c of collections()) {
    const r = c.rules
    insert.run(
      c.id,
      c.system ? 1 : 0,
      c.type,
      c.name,
      JSON.stringify(c.fields),
      JSON.stringify(c.indexes),
      r.listRule,
      r.viewRule,
      r.createRule,
      r.updateRule,
      r.deleteRule,
      JSON.stringify(c.options),
      when,
      when,
    )
    if (c.type === 'view') db.exec(`CREATE VIEW \`${c.name}\` AS SELECT * FROM (${c.options.viewQuery})`)
    else {
      db.exec(`CREATE TABLE \`${c.name}\` (${c.columns})`)
      for (const index of c.indexes) db.exec(index)
    }
  }
  for (const [table, rows] of Object.entries(records()))
    for (const row of rows) {
      const columns = Object.keys(row)
      db.prepare(
        `INSERT INTO \`${table}\` (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
      ).run(...Object.values(row))
    }
  db.close()
  const file = (collection: string, record: string, name: string, bytes: Buffer) => {
    mkdirSync(join(dir, 'storage', collection, record), { recursive: true })
    writeFileSync(join(dir, 'storage', collection, record, name), bytes)
  }
  file(POCKETBASE.posts, IDS.hello, COVER_NAME, COVER)
  file(POCKETBASE.posts, IDS.hello, 'notes_a8f3k2l1m0.txt', NOTES)
}

/** A pb_data folder of PocketBase v0.22: `_collections` still has `schema`, not `fields`. */
export function writeOldPocketBaseData(dir: string): void {
  const db = new Database(join(dir, 'data.db'))
  db.exec(`CREATE TABLE _collections (id TEXT PRIMARY KEY NOT NULL, system BOOLEAN DEFAULT FALSE NOT NULL,
    type TEXT DEFAULT "base" NOT NULL, name TEXT UNIQUE NOT NULL, schema JSON DEFAULT "[]" NOT NULL,
    indexes JSON DEFAULT "[]" NOT NULL, listRule TEXT DEFAULT NULL, viewRule TEXT DEFAULT NULL,
    createRule TEXT DEFAULT NULL, updateRule TEXT DEFAULT NULL, deleteRule TEXT DEFAULT NULL,
    options JSON DEFAULT "{}" NOT NULL, created TEXT DEFAULT "" NOT NULL, updated TEXT DEFAULT "" NOT NULL)`)
  db.close()
}
