// trunk post_build hook: the steps that change dist/ after the build, in order (trunk starts
// the hooks of one stage together, and the service worker must list the loader's final name).
await import('./externalize-loader.mjs');
await import('./service-worker.mjs');
