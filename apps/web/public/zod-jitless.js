// The dashboard is served with a content security policy without 'unsafe-eval', so zod
// must not try to compile its parsers with `new Function`. Zod reads this setting when a
// schema is built, before any bundle code could call z.config(), hence a script of its own
// that runs before the bundles.
globalThis.__zod_globalConfig = { ...globalThis.__zod_globalConfig, jitless: true };
