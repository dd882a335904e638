// Docket's Prometheus instruments, in a registry of their own (never prom-client's global one: two apps in
// one process, as in the tests, keep apart). Labels carry only bounded values: route templates, methods,
// statuses, outcomes, and, in the task gauges, pipeline names and stage names, which the operator defines.
// Never a task id, run id or agent id.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

// Seconds. Requests and long-poll waits are short; queue waits and runs last from milliseconds to a day.
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
const CLAIM_WAIT_BUCKETS = [0.005, 0.05, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60]
const WORK_BUCKETS = [0.01, 0.1, 0.5, 1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 21600, 86400]

export const RUN_OUTCOMES = ['completed', 'failed', 'released', 'expired'] as const
export type RunOutcome = (typeof RUN_OUTCOMES)[number]

export type Instruments = ReturnType<typeof createInstruments>

export function createInstruments() {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const registers = [registry]
  return {
    registry,
    httpDuration: new Histogram({
      name: 'docket_http_request_duration_seconds', help: 'HTTP requests by method, route template and status',
      labelNames: ['method', 'route', 'status'] as const, buckets: REQUEST_BUCKETS, registers,
    }),
    claimWait: new Histogram({
      name: 'docket_claim_wait_seconds', help: 'Time a long-poll claim (wait_ms > 0) waited, by whether it got a task',
      labelNames: ['outcome'] as const, buckets: CLAIM_WAIT_BUCKETS, registers,
    }),
    queueWait: new Histogram({
      name: 'docket_queue_wait_seconds', help: 'Time a task was claimable before it was claimed (since its last change or eligibility time)',
      buckets: WORK_BUCKETS, registers,
    }),
    runDuration: new Histogram({
      name: 'docket_run_duration_seconds', help: 'Run time from claim to its end, by outcome (expired: to when its expiry was found)',
      labelNames: ['outcome'] as const, buckets: WORK_BUCKETS, registers,
    }),
    claims: new Counter({ name: 'docket_claims_total', help: 'Claims answered, by whether they leased a task', labelNames: ['outcome'] as const, registers }),
    heartbeats: new Counter({ name: 'docket_heartbeats_total', help: 'Lease heartbeats accepted', registers }),
    leaseExpirations: new Counter({ name: 'docket_lease_expirations_total', help: 'Leases that ran out and were reaped by this process', registers }),
    deadLetters: new Counter({
      name: 'docket_dead_letters_total', registers,
      help: 'Tasks dead-lettered because their attempts ran out: by a failed run or by an expired lease',
    }),
    requeues: new Counter({ name: 'docket_requeues_total', help: 'Tasks requeued by an operator', registers }),
    spansAccepted: new Counter({ name: 'docket_otlp_spans_accepted_total', help: 'OTLP spans accepted', registers }),
    storePuts: new Counter({ name: 'docket_store_puts_total', help: 'Store entries written (PUT /store/{ns}/{key})', registers }),
    storeSearches: new Counter({ name: 'docket_store_searches_total', help: 'Store searches answered', registers }),
    tasks: new Gauge({
      name: 'docket_tasks', help: 'Tasks by pipeline, stage and state, read from counters at scrape time (cluster-wide)',
      labelNames: ['pipeline', 'stage', 'state'] as const, registers,
    }),
    oldestClaimableAge: new Gauge({
      name: 'docket_oldest_claimable_age_seconds', help: 'Age (since creation) of the oldest claimable task of each stage some role claims from; 0 when none',
      labelNames: ['pipeline', 'stage'] as const, registers,
    }),
  }
}
