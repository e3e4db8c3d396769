export { LocalFileStore } from './local-store.js'
