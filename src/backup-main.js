// `npm run backup` runs this: the Node.js version check (see node-version.js), then the backup command.
import { requireNode24 } from './node-version.js'

requireNode24('docket backup', 'npm run backup')
import('./backup.ts')
