import { describeSplit } from './split-suite.js';

describeSplit({ transport: 'ws' });
