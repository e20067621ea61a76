// Wire schemas (TypeBox) in one place: routes declare them for request and response validation, the rules
// take their Static types, and client metadata documents are checked with the compiled ClientMetadata.
export * from './client-metadata.ts'
export * from './oauth.ts'
export * from './discovery.ts'
