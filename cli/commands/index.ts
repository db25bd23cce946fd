import type { Command } from '../command';
import { accountCommands } from './accounts';
import { auditCommands } from './audit';
import { databaseCommands } from './database';
import { domainCommands } from './domains';
import { externalAccountCommands } from './external-accounts';
import { importCommands } from './import';
import { quarantineCommands } from './quarantine';
import { statusCommands } from './status';

export const COMMANDS: readonly Command[] = [
  ...domainCommands,
  ...accountCommands,
  ...externalAccountCommands,
  ...statusCommands,
  ...quarantineCommands,
  ...importCommands,
  ...auditCommands,
  ...databaseCommands,
];
