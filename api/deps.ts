import type { Pool } from '../db/pool';
import type { WorkflowControl } from './workflow-control';

export interface ApiDeps {
  pool: Pool;
  workflows: WorkflowControl;
}
