/** The header fields mimeRecipients reads when the account names none (a module of its own: the API's schemas need no header parsing). */
export const DEFAULT_RECIPIENT_HEADERS = ['To', 'CC', 'X-RCPT-TO', 'X-Envelope-To', 'Received'] as const;
