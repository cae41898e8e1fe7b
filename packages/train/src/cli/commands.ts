import type { CliCommand } from './command.js';
import { doctorCommand } from './doctor-command.js';
import { evalCommand } from './eval-command.js';
import { reportCommand } from './report-command.js';
import { trainCommand } from './train-command.js';
import { exportCommand, predictCommand } from './ship.js';
import { ablateTableCommand, augmentTableCommand, dataTableCommand } from './augment-command.js';

/** Every `ofq` subcommand, in the order `--help` lists them. A new command: its own file, one line here. */
export const COMMANDS: CliCommand[] = [trainCommand, evalCommand, reportCommand, ablateTableCommand, exportCommand, predictCommand, augmentTableCommand, dataTableCommand, doctorCommand];
