import { JOB_SORT_FIELDS, JOB_STATES } from '../jobs/index.js'
import { type JsonSchema, ref } from './document-context.js'
import {
  dateTime,
  nullableDateTime,
  ok,
  operation,
  pageOf,
  pagingParameters,
  queryParameter,
  SUPERUSERS_ONLY,
  uuidPathParameter,
} from './operations.js'
import { signedIn } from './security-schemes.js'

export const JOBS_TAG = 'Jobs'

/** Operation ids of these endpoints; collections must not take them. */
export const jobOperationIds = ['listJobs', 'viewJob', 'retryJob', 'deleteJob', 'listCrons', 'runCron']

export const jobSchemas: Record<string, JsonSchema> = {
  Job: {
    type: 'object',
    properties: {
      id: { type: 'string', format: 'uuid' },
      name: { type: 'string' },
      queue: { type: 'string' },
      state: {
        type: 'string',
        enum: [...JOB_STATES],
        description: '`failed` will be tried again at `runAt`; `dead` has used up its attempts.',
      },
      payload: { description: 'What the job was enqueued with (JSON).' },
      priority: { type: 'integer', description: 'Higher runs first among due jobs.' },
      attempts: { type: 'integer', description: 'Attempts started so far.' },
      maxAttempts: { type: 'integer' },
      uniqueKey: { type: ['string', 'null'] },
      runAt: { ...dateTime, description: 'When the job (or its next attempt) may run.' },
      lockedUntil: { ...nullableDateTime, description: 'While running: when its lease ends.' },
      lastError: { type: ['string', 'null'] },
      created: dateTime,
      updated: dateTime,
      finished: nullableDateTime,
    },
    required: [
      'id',
      'name',
      'queue',
      'state',
      'payload',
      'priority',
      'attempts',
      'maxAttempts',
      'uniqueKey',
      'runAt',
      'lockedUntil',
      'lastError',
      'created',
      'updated',
      'finished',
    ],
  },
  JobList: pageOf(ref('Job')),
  CronSchedule: {
    type: 'object',
    properties: {
      id: { type: 'string', description: 'The name of the cron entry.' },
      expression: { type: 'string', description: 'Five fields, or six with seconds.' },
      timezone: { type: 'string', description: 'The IANA time zone the expression is read in.' },
      job: { type: 'string', description: 'The job each tick enqueues.' },
      nextRun: { ...nullableDateTime, description: 'The next tick; null when none comes.' },
      lastRun: {
        ...nullableDateTime,
        description: 'The newest tick any node claimed; null before the first.',
      },
      lastJob: {
        oneOf: [ref('Job'), { type: 'null' }],
        description:
          'The job that tick enqueued, with its outcome; null before the first tick or once pruned.',
      },
    },
    required: ['id', 'expression', 'timezone', 'job', 'nextRun', 'lastRun', 'lastJob'],
  },
}

const jobId = uuidPathParameter('id', 'The id of the job.')

/** The job queue, for superusers. */
export function jobPaths(): Record<string, JsonSchema> {
  const tags = [JOBS_TAG]
  return {
    '/api/jobs': {
      get: operation('get', 'listJobs', tags, {
        summary: 'List jobs',
        description: `${SUPERUSERS_ONLY} Unknown query parameters are refused.`,
        security: signedIn('get'),
        parameters: [
          queryParameter('state', 'Only jobs in this state.', { type: 'string', enum: [...JOB_STATES] }),
          queryParameter('name', 'Only jobs of this name.', { type: 'string', maxLength: 200 }),
          queryParameter('queue', 'Only jobs of this queue.', { type: 'string', maxLength: 200 }),
          queryParameter(
            'sort',
            `Comma-separated fields, \`-\` for descending: ${JOB_SORT_FIELDS.join(', ')}.`,
            {
              type: 'string',
              default: '-created',
            },
          ),
          ...pagingParameters('Jobs'),
        ],
        responses: { 200: ok('One page of jobs.', ref('JobList')) },
        problems: [400, 403],
      }),
    },
    '/api/jobs/{id}': {
      parameters: [jobId],
      get: operation('get', 'viewJob', tags, {
        summary: 'View a job',
        description: SUPERUSERS_ONLY,
        security: signedIn('get'),
        responses: { 200: ok('The job.', ref('Job')) },
        problems: [400, 403, 404],
      }),
      delete: operation('delete', 'deleteJob', tags, {
        summary: 'Delete a job',
        description: `${SUPERUSERS_ONLY} A running job answers 409.`,
        security: signedIn('delete'),
        responses: { 204: { description: 'Deleted.' } },
        problems: [403, 404],
      }),
    },
    '/api/crons': {
      get: operation('get', 'listCrons', tags, {
        summary: 'List cron schedules',
        description: `${SUPERUSERS_ONLY} Every schedule of this node (the project's and Plinth's own), with its next and last tick and the outcome of the job the last tick enqueued.`,
        security: signedIn('get'),
        responses: { 200: ok('The schedules.', { type: 'array', items: ref('CronSchedule') }) },
        problems: [400, 403],
      }),
    },
    '/api/crons/{id}': {
      parameters: [
        {
          name: 'id',
          in: 'path',
          required: true,
          description: 'The name of the cron entry.',
          schema: { type: 'string', maxLength: 200 },
        },
      ],
      post: operation('post', 'runCron', tags, {
        summary: 'Run a schedule now',
        description: `${SUPERUSERS_ONLY} Enqueues the entry's job with its payload, beside the schedule (its last run stays as it was). Takes no body.`,
        security: signedIn('post'),
        responses: {
          201: { ...ok('The job, queued.', ref('Job')), headers: { Location: ref('Location', 'headers') } },
        },
        problems: [400, 403, 404],
      }),
    },
    '/api/jobs/{id}/retry': {
      parameters: [jobId],
      post: operation('post', 'retryJob', tags, {
        summary: 'Run a failed or dead job again now',
        description: `${SUPERUSERS_ONLY} Its attempts are counted afresh. Another state answers 409, as does a pending job with the same unique key.`,
        security: signedIn('post'),
        responses: { 200: ok('The job, queued.', ref('Job')) },
        problems: [403, 404],
      }),
    },
  }
}
