// A test process that starts the shared cluster, prints it, then either waits to be killed (`wait`) or ends
// on its own with exit code 3 set (`exit-code`). Run by cluster.test.ts.
import { sharedCluster } from '../../helpers/postgres.ts'

const cluster = await sharedCluster()
process.stdout.write(`${JSON.stringify({ pid: cluster.pid, dir: cluster.dir })}\n`)
if (process.argv[2] === 'wait') setInterval(() => {}, 1000)
else process.exitCode = 3
