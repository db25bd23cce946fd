/** The SASL XOAUTH2 initial response (Google's and Microsoft's format), base64. */
export function xoauth2Response(user: string, accessToken: string): string {
  return Buffer.from(`user=${user}\x01auth=Bearer ${accessToken}\x01\x01`).toString('base64');
}
