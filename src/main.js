// `npm start` runs this: the Node.js version check (see node-version.js), then the server. A static import of
// server.ts would be loaded, and fail, before the check could run.
import { requireNode24 } from './node-version.js'

requireNode24('docket', 'npm start')
import('./server.ts')
