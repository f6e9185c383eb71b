/**
 * The layering rules of DESIGN.md, checked by `npm run depcheck` (part of `npm test`):
 * bin → actors → transports → src, components only through each other's protocol.ts, no cycles.
 */
module.exports = {
  forbidden: [
    {
      name: 'src-is-the-bottom-layer',
      comment: 'src/ is the runtime: it never imports transports/, actors/ or bin/.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(transports|actors|bin)/' },
    },
    {
      name: 'transports-below-actors',
      comment: 'A transport never imports a component or the CLI.',
      severity: 'error',
      from: { path: '^transports/' },
      to: { path: '^(actors|bin)/' },
    },
    {
      name: 'actors-below-bin',
      severity: 'error',
      from: { path: '^actors/' },
      to: { path: '^bin/' },
    },
    {
      name: 'components-talk-through-protocols',
      comment: 'A component imports another component only through that one\'s protocol.ts.',
      severity: 'error',
      from: { path: '^actors/([^/]+)/' },
      to: { path: '^actors/([^/]+)/', pathNot: ['^actors/$1/', '^actors/[^/]+/protocol\\.ts$'] },
    },
    {
      name: 'no-circular',
      comment: 'Import cycles (type-only imports excluded: they vanish at run time).',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules|test)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
