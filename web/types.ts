/**
 * The API's answers as the page reads them: the types inferred from the API's own schemas
 * (api/response-types.ts). The page's one way out of web/, and for types only: nothing of the
 * server is bundled.
 */
import type { AccountStatus, ErrorAnswer, OAuthAppList, ProviderList } from '../api/response-types';

export type {
  Account,
  AccountList,
  AppendLogin,
  CreatedExternalAccount,
  DeliveryTargetList,
  DomainList,
  ExternalAccount,
  ExternalAccountList,
  ExternalAccountListItem,
  HeldPage,
  Me,
  MessagePage,
  OAuthAppList,
  ProviderList,
  ResetIndexResult,
  SignInStarted,
  UiConfig,
} from '../api/response-types';

/** One of the installation's OAuth apps. */
export type OAuthApp = OAuthAppList['apps'][number];
/** A provider preset (Gmail, Microsoft 365, ...). */
export type ProviderPreset = ProviderList['providers'][number];

/** What the overview shows of a status: the live status has it all, the one recorded in the list a part. */
export type Status = Pick<
  AccountStatus,
  | 'phase'
  | 'disabledReason'
  | 'progress'
  | 'tlsWarning'
  | 'folderWarning'
  | 'lastRun'
  | 'lastError'
  | 'nextRunAt'
  | 'rerunQueued'
  | 'retrying'
> & { delivery: Pick<AccountStatus['delivery'], 'backlog' | 'quarantined' | 'lastError'> };

/** An error answer; for an answer that is not JSON the page makes one with the code http_error. */
export type ErrorBody = ErrorAnswer;
