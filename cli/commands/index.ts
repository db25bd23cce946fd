import type { Command } from '../command';
import { accountCommands } from './accounts';
import { auditCommands } from './audit';
import { databaseCommands } from './database';
import { domainCommands } from './domains';
import { externalAccountCommands } from './external-accounts';
import { importCommands } from './import';
import { quarantineCommands } from './quarantine';
import { signInCommand } from './sign-in';
import { statusCommands } from './status';
import { webhookCommands } from './webhooks';

export const COMMANDS: readonly Command[] = [
  ...domainCommands,
  ...accountCommands,
  ...externalAccountCommands,
  signInCommand,
  ...statusCommands,
  ...quarantineCommands,
  ...importCommands,
  ...auditCommands,
  ...webhookCommands,
  ...databaseCommands,
];
