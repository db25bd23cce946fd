import type { Pool } from '../db/pool';
import type { Keyring } from '../secrets/keyring';
import type { WorkflowControl } from './workflow-control';

export interface ApiDeps {
  pool: Pool;
  keyring: Keyring;
  workflows: WorkflowControl;
}
