// Entry of the child processes that do the bench's own better-sqlite3 work (see child.ts for why).
import './retain.ts'
import { reportResult, type Job } from './child.ts'
import { inProcessCycles } from './inprocess.ts'
import { seedDatabase } from './seed.ts'

const job = JSON.parse(process.argv[2]) as Job
if (job.kind === 'inprocess') reportResult(inProcessCycles(job))
else reportResult(seedDatabase(job.dbPath, job))
