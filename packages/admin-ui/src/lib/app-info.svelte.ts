import { pb } from './pb'

/** The application's name from the settings, shown in the top bar and the page title. */
export const appInfo = $state({ name: '' })

export function setAppName(name: string): void {
  appInfo.name = name
  document.title = name ? `${name} · Galley dashboard` : 'Galley dashboard'
}

/** Reads `meta.appName`; a failure leaves the name empty (the settings screen shows its own errors). */
export async function loadAppName(): Promise<void> {
  try {
    const s = await pb.settings.getAll()
    setAppName(typeof s.meta?.appName === 'string' ? s.meta.appName : '')
  } catch {
    setAppName('')
  }
}
