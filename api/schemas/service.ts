import { z } from 'zod';
import { PROVIDER_NAMES } from '../../core/providers';
import { answerUuid, named, tlsMode } from './answers';

// What the service routes answer: health, the token, the admin page's settings, the provider presets, the document.

export const health = named('Health', z.object({ ok: z.literal(true) }));
export const me = named(
  'Me',
  z.object({
    id: z.string(),
    scope: z.enum(['admin', 'read']),
    domainIds: z.array(answerUuid).nullable().meta({ description: 'the local domains the token is limited to; null: every domain' }),
    messagesRead: z.boolean().meta({ description: 'may read message bodies (/raw)' }),
  }),
);
export const uiConfig = named(
  'UiConfig',
  z.object({
    temporalUiUrl: z.string().nullable().meta({ description: 'MAILPULL_TEMPORAL_UI_URL; null: not configured' }),
    temporalNamespace: z.string(),
  }),
);

const serverPreset = z.object({ host: z.string(), port: z.number().int(), tlsMode });
export const providerList = named(
  'ProviderList',
  z.object({
    providers: z.array(
      z.object({
        name: z.enum(PROVIDER_NAMES),
        label: z.string(),
        imap: serverPreset,
        pop3: serverPreset.nullable().meta({ description: 'null: the provider offers no POP3' }),
        authMethod: z.enum(['password', 'xoauth2']),
        oauthProvider: z.enum(['google', 'microsoft']).nullable(),
        scopes: z.array(z.string()),
        excludeFolders: z.array(z.string()).meta({ description: 'left out of folders mode "all" unless the account says otherwise' }),
        maxImapConnections: z
          .number()
          .int()
          .nullable()
          .meta({ description: "the provider's limit on simultaneous IMAP connections per user" }),
        note: z.string().meta({ description: 'what the admin must do at the provider first' }),
      }),
    ),
  }),
);

export const openApiDocument = named(
  'OpenApiDocument',
  z.looseObject({
    openapi: z.string(),
    info: z.looseObject({ title: z.string(), version: z.string() }),
    paths: z.record(z.string(), z.unknown()),
  }),
);
