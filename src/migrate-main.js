// `npm run migrate` runs this: the Node.js version check (see node-version.js), then the copy command.
import { requireNode24 } from './node-version.js'

requireNode24('docket migrate', 'npm run migrate')
import('./migrate.ts')
