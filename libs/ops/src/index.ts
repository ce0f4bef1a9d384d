export * from './console-logger';
export * from './devtools';
export * from './listen-address';
export * from './secret-setting';
export * from './devtools-settings';
export * from './share-in-flight';
export * from './package-version';
