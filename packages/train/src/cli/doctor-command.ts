import { setBackend, type BackendChoice } from '@ofq/core';
import { installAccelIfPresent, loadTfjs } from '../runtime.js';
import { BACKEND_CHOICES, stringFlag, type CliCommand } from './command.js';
import { doctor, formatDoctor } from './doctor.js';

export const doctorCommand: CliCommand = {
  name: 'doctor',
  summary: 'tfjs versions, duplicate tfjs-core copies, backends, the chosen backend and accel engine',
  flags: [{ name: 'backend', kind: 'string', value: '<b>', choices: BACKEND_CHOICES, help: 'backend to try (default auto)' }],
  async run(args, io) {
    const r = await doctor(
      async () => {
        await loadTfjs();
        return setBackend(stringFlag(args, 'backend', 'auto') as BackendChoice);
      },
      () => installAccelIfPresent('auto'),
    );
    io.out(formatDoctor(r));
    return 0;
  },
};
