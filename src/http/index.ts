export { buildHttpServer, type HttpOptions } from './server.js'
