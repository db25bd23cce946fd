import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../../core/config';

describe('MAILPULL_TEMPORAL_UI_URL', () => {
  const base = { DATABASE_URL: 'postgres://x', MAILPULL_SECRET_KEY: 'a' };

  test('unset: the admin page has no Temporal links', () => {
    assert.equal(loadConfig(base).temporalUiUrl, null);
    assert.equal(loadConfig({ ...base, MAILPULL_TEMPORAL_UI_URL: '' }).temporalUiUrl, null);
  });

  test('an http(s) URL, without its trailing slashes', () => {
    assert.equal(
      loadConfig({ ...base, MAILPULL_TEMPORAL_UI_URL: 'https://temporal.example/ui//' }).temporalUiUrl,
      'https://temporal.example/ui',
    );
    assert.equal(loadConfig({ ...base, MAILPULL_TEMPORAL_UI_URL: 'http://127.0.0.1:8233' }).temporalUiUrl, 'http://127.0.0.1:8233');
  });

  test('anything else is refused, naming the variable', () => {
    for (const bad of ['127.0.0.1:8233', 'javascript:alert(1)', 'ftp://temporal.example']) {
      assert.throws(() => loadConfig({ ...base, MAILPULL_TEMPORAL_UI_URL: bad }), /MAILPULL_TEMPORAL_UI_URL must be an http or https URL/);
    }
  });
});
