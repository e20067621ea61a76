// Client ID metadata documents: fetching one is I/O (src/upstream/client-metadata-documents.ts); the rules
// in src/oauth/clients.ts only validate what comes back.

export interface ClientMetadataDocumentFetcher {
  fetch (url: string): Promise<unknown>
}
