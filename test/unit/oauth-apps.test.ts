import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { knownEndpoints, loopbackRedirectProblem, offersDeviceFlow, returnToProblem, returnWith } from '../../core/oauth-apps';

describe('OAuth apps: which flow, where the browser may go', () => {
  test('device authorization: Microsoft only as a public client, Google never, a custom server when its metadata names the endpoint', () => {
    const microsoft = {
      provider: 'microsoft' as const,
      deviceAuthorizationEndpoint: knownEndpoints('microsoft', 'common').deviceAuthorizationEndpoint,
    };
    assert.equal(offersDeviceFlow(microsoft, false), true);
    assert.equal(offersDeviceFlow(microsoft, true), false, 'Entra ID refuses a client secret in the device flow');
    const google = { provider: 'google' as const, deviceAuthorizationEndpoint: knownEndpoints('google', null).deviceAuthorizationEndpoint };
    assert.equal(offersDeviceFlow(google, false), false);
    assert.equal(offersDeviceFlow({ provider: 'custom', deviceAuthorizationEndpoint: 'https://id.example/device' }, true), true);
    assert.equal(offersDeviceFlow({ provider: 'custom', deviceAuthorizationEndpoint: null }, false), false);
  });

  test('the browser returns only to a path on mailpull, with the outcome before the fragment', () => {
    for (const bad of ['https://elsewhere.example/', '//elsewhere.example/', '/\\elsewhere', 'relative', '/a\nb']) {
      assert.ok(returnToProblem(bad), bad);
    }
    assert.equal(returnToProblem('/#/'), null);
    assert.equal(returnWith('/#/', { oauth: 'done', account: 'x' }), '/?oauth=done&account=x#/');
    assert.equal(returnWith('/?a=1', { oauth: 'failed' }), '/?a=1&oauth=failed');
  });

  test("the CLI's redirect URI is plain http to a loopback address", () => {
    assert.equal(loopbackRedirectProblem('http://127.0.0.1:8765/oauth/callback'), null);
    assert.equal(loopbackRedirectProblem('http://[::1]:8765/cb'), null);
    for (const bad of ['https://127.0.0.1/cb', 'http://10.0.0.1/cb', 'http://127.0.0.1/cb?x=1', 'http://u:p@127.0.0.1/cb', 'nope']) {
      assert.ok(loopbackRedirectProblem(bad), bad);
    }
  });
});
