/** The API's schemas under the name test/openapi.test.ts imports them by; they live in api/schemas/, one file per resource. */
export * from './schemas';
