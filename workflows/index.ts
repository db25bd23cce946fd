export { externalAccountWorkflow } from './external-account';
export { webhookDeliveryWorkflow } from './webhook-delivery';
