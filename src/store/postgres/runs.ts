// Claims, leases and how runs end (transition, fail, expiry, release, cancel), requeue, and reading runs and events. (PostgreSQL driver)
import type pg from 'pg'
import { notYet, type PgContext, type TxChanges } from './context.ts'
import type { Reads } from '../driver.ts'

export function runsChanges(ctx: PgContext): Pick<TxChanges, 'claim' | 'cancelTask' | 'requeueTask' | 'rotateToken' | 'release' | 'heartbeat' | 'appendEvent' | 'transition' | 'fail' | 'expireDue'> {
  void ctx
  return {
    claim: notYet('claim'),
    cancelTask: notYet('cancelTask'),
    requeueTask: notYet('requeueTask'),
    rotateToken: notYet('rotateToken'),
    release: notYet('release'),
    heartbeat: notYet('heartbeat'),
    appendEvent: notYet('appendEvent'),
    transition: notYet('transition'),
    fail: notYet('fail'),
    expireDue: notYet('expireDue'),
  }
}

export function runsReads(pool: pg.Pool, ctx: PgContext): Pick<Reads, 'run' | 'latestRun' | 'runs' | 'events' | 'claimants'> {
  void pool
  void ctx
  return {
    run: notYet('run'),
    latestRun: notYet('latestRun'),
    runs: notYet('runs'),
    events: notYet('events'),
    claimants: notYet('claimants'),
  }
}
