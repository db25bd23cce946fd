/*
 * The API's schemas, one file per resource (request bodies, parameters and answers together),
 * the shared request fields in fields.ts and the answers' registry and error bodies in answers.ts.
 */
export * from './fields';
export * from './answers';
export * from './service';
export * from './domains';
export * from './accounts';
export * from './append-logins';
export * from './external-accounts';
export * from './account-status';
export * from './delivery-targets';
export * from './quarantine';
export * from './audit';
export * from './webhooks';
export * from './oauth';
