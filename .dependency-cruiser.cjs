/**
 * The layers (docs/development.md has the map): a folder imports only from folders below it, and
 * nothing imports in a circle. `npm run lint` runs this; test/unit/layers.test.ts proves it fails.
 *
 *   worker   api   cli       entry points (web/ is the browser page, on its own)
 *   workflows                deterministic: core, and only types from below
 *   activities               I/O, one factory with its dependencies
 *   db      mail             storage | remote servers and delivery targets (side by side)
 *   secrets
 *   core                     decisions, the types every layer shares, the outbound network guard
 *
 * testkit/ (servers, Dovecot, proxies, faults, corpus) serves test/ and bench/; no product code
 * imports any of the three.
 */
const RANKS = {
  core: 0,
  secrets: 1,
  db: 2,
  mail: 2,
  activities: 3,
  workflows: 4,
  worker: 5,
  api: 5,
  cli: 5,
};
const PRODUCT = Object.keys(RANKS);
const folders = (names) => `^(${names.join('|')})/`;

const downwardOnly = PRODUCT.map((layer) => {
  const notBelow = PRODUCT.filter((other) => other !== layer && RANKS[other] >= RANKS[layer] && !(layer === 'cli' && other === 'api'));
  return {
    name: `${layer}-imports-downward`,
    comment: `${layer}/ imports only from layers below it (${PRODUCT.filter((o) => RANKS[o] < RANKS[layer]).join(', ') || 'none'})`,
    severity: 'error',
    from: { path: folders([layer]) },
    to: { path: folders([...notBelow, 'web']) },
  };
});

module.exports = {
  forbidden: [
    ...downwardOnly,
    {
      name: 'workflows-only-types-from-io',
      comment: 'workflow code runs in the deterministic sandbox: it takes only types from the I/O layers',
      severity: 'error',
      from: { path: folders(['workflows']) },
      to: { path: folders(['secrets', 'db', 'mail', 'activities']), dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'cli-only-types-from-api',
      comment: 'the CLI is a client of the API: it reads answers through the types the API infers from its schemas',
      severity: 'error',
      from: { path: folders(['cli']) },
      to: { path: folders(['api']), dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'api-not-worker-side',
      comment: 'the API talks to no mail server: what it shares with the worker lives in core/',
      severity: 'error',
      from: { path: folders(['api']) },
      to: { path: folders(['mail', 'activities']) },
    },
    {
      name: 'web-is-browser-code',
      comment: 'web/ runs in the browser: it takes only types from the API and core',
      severity: 'error',
      from: { path: folders(['web']) },
      to: { path: folders([...PRODUCT.filter((l) => l !== 'core' && l !== 'api'), 'test', 'bench', 'testkit']) },
    },
    {
      name: 'web-only-types',
      comment: 'web/ runs in the browser: it takes only types from the API and core',
      severity: 'error',
      from: { path: folders(['web']) },
      to: { path: folders(['core', 'api']), dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'product-not-tests',
      comment: 'product code never imports test/, bench/ or testkit/',
      severity: 'error',
      from: { path: folders(PRODUCT) },
      to: { path: folders(['test', 'bench', 'testkit']) },
    },
    {
      name: 'testkit-below-tests',
      comment: 'testkit/ serves test/ and bench/ and imports neither',
      severity: 'error',
      from: { path: folders(['testkit']) },
      to: { path: folders(['test', 'bench']) },
    },
    {
      name: 'test-and-bench-apart',
      comment: 'what test/ and bench/ share lives in testkit/',
      severity: 'error',
      from: { path: folders(['test', 'bench']) },
      to: { path: folders(['test', 'bench']), pathNot: '^$1/' },
    },
    {
      name: 'no-circular',
      comment: 'no module reaches itself through its imports',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules|\\.data)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
