import type { z } from 'zod';
import type * as res from './schemas';

/**
 * The API's answers as TypeScript types, inferred from the zod schemas the OpenAPI document is
 * made of (and test/openapi.test.ts checks real answers against). The CLI and the admin page
 * (web/) read the API through these: imported with `import type`, they vanish from the page's
 * bundle, so no server code reaches the browser.
 */

export type ErrorAnswer = z.infer<(typeof res.errors)[keyof typeof res.errors]>;
export type Me = z.infer<typeof res.me>;
export type UiConfig = z.infer<typeof res.uiConfig>;
export type Domain = z.infer<typeof res.domain>;
export type DomainList = z.infer<typeof res.domainList>;
export type Account = z.infer<typeof res.account>;
export type AccountList = z.infer<typeof res.accountList>;
export type MessagePage = z.infer<typeof res.messagePage>;
export type StoredMessage = MessagePage['messages'][number];
export type ExternalAccount = z.infer<typeof res.externalAccount>;
export type CreatedExternalAccount = z.infer<typeof res.createdExternalAccount>;
export type ResetIndexResult = z.infer<typeof res.resetIndexResult>;
export type AccountStatus = z.infer<typeof res.accountStatus>;
export type ExternalAccountListItem = z.infer<typeof res.externalAccountListItem>;
export type ExternalAccountList = z.infer<typeof res.externalAccountList>;
export type HeldMessage = z.infer<typeof res.heldMessage>;
export type HeldPage = z.infer<typeof res.heldPage>;
export type AuditPage = z.infer<typeof res.auditPage>;
export type ProviderList = z.infer<typeof res.providerList>;
export type OAuthAppList = z.infer<typeof res.oauthAppList>;
export type SignInStarted = z.infer<typeof res.signInStarted>;
export type SignIn = z.infer<typeof res.signIn>;
export type AppendLogin = z.infer<typeof res.appendLogin>;
export type DeliveryTargetList = z.infer<typeof res.deliveryTargetList>;
