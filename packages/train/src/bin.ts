// The `ofq` executable (package.json "bin", built to dist/cli.js; `pnpm ofq` runs this source).
import { run } from './cli.js';

run();
