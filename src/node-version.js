// Plain JavaScript in old syntax on purpose: this must run on whatever Node.js a machine has, and one older
// than 22.18 cannot load a .ts file at all (it throws ERR_UNKNOWN_FILE_EXTENSION with a stack). npm install
// brings Node.js 24 as the `node` devDependency and every npm script runs on it; this catches the rest.
var REQUIRED_MAJOR = 24

/** Exits 1 with one line unless this Node.js is new enough; `command` is the npm command that runs `program`. */
export function requireNode24(program, command) {
  var version = process.versions.node
  if (Number(version.split('.')[0]) >= REQUIRED_MAJOR) return
  process.stderr.write(program + ' needs Node.js ' + REQUIRED_MAJOR + ' or newer (this is ' + version + '); run it with ' +
    command + ', which uses the Node.js that npm install put in node_modules\n')
  process.exit(1)
}
