export { HttpClientTransport, type HttpClientTransportOptions } from './client.js'
export { HttpServerTransport, type HttpServerTransportOptions } from './server.js'
