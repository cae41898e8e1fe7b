// Alternative entry for `tsx src/cli/main.ts ...` (the root `pnpm run main` script); same as src/cli.ts.
import { run } from '../cli.js';

run();
