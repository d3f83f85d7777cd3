// The MLS header reader lives in @natter/protocol since the server's Delivery Service reads it too (one
// contract); the engine keeps exporting it from here for its callers.
export { type MlsContentType, type MlsHeader, type MlsWireFormat, readMlsHeader } from '@natter/protocol';
