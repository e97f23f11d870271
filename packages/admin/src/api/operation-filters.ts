import type { Job } from './types'

/** The states of GET /api/jobs?state=, in the order a job goes through them. */
export const JOB_STATES: readonly Job['state'][] = ['queued', 'running', 'succeeded', 'failed', 'dead']
