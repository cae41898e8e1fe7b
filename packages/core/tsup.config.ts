import { libraryConfig } from '../../tsup.base';

// The testing helpers are a second entry (@ofq/core/testing), kept out of the main one.
export default libraryConfig({ entry: ['src/index.ts', 'src/testing.ts'] });
