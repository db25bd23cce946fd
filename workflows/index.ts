export { externalAccountWorkflow } from './external-account';
