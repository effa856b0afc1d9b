/*
 * The package's name and version, read from its own package.json at run time so that they are never
 * kept by hand. `build/src/version.js` sits two directories below the package root.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pkg = require('../../package.json') as { name: string; version: string };

export const PACKAGE_NAME: string = pkg.name;
export const PACKAGE_VERSION: string = pkg.version;
