import { z } from 'zod';
import { isAddress } from '../text-checks';
import { count, named, timestamp, answerUuid } from './answers';
import { ADDRESS_PATTERN, text, uuid } from './fields';

const address = text(320).trim().refine(isAddress, 'must be an e-mail address like user@example.com').meta({ pattern: ADDRESS_PATTERN });

export const createAccount = z.strictObject({ address, enabled: z.boolean().default(true) });
export const updateAccount = z.strictObject({ enabled: z.boolean() });
export const accountListQuery = z.object({ domainId: uuid.optional() });
export const messageParams = z.object({ id: uuid, messageId: text(18).regex(/^\d{1,18}$/, 'must be a message id') });

export const account = named(
  'Account',
  z.object({ id: answerUuid, domainId: answerUuid, address: z.string(), enabled: z.boolean(), createdAt: timestamp, updatedAt: timestamp }),
);
export const accountList = named('AccountList', z.object({ accounts: z.array(account) }));

const storedMessage = named(
  'StoredMessage',
  z.object({
    id: z.string(),
    folder: z.string(),
    size: count,
    internalDate: timestamp,
    flags: z.array(z.string()),
    subject: z.string().nullable(),
    from: z.string().nullable(),
    messageId: z.string().nullable(),
    externalAccountId: answerUuid.nullable(),
    sourceFolder: z.string(),
    sourceUid: z.string().nullable(),
    deliveredAt: timestamp,
  }),
);
export const messagePage = named('MessagePage', z.object({ total: count, messages: z.array(storedMessage), limit: count, offset: count }));
