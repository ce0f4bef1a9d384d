// What the Hive's REST API clients share: the OpenAPI types (generated, see README) and small pure rules.
export * from './device-health';
export type { paths, components, operations } from './openapi';
