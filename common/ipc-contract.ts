/**
 * The Electron IPC contract between the page (renderer, through the preload bridge) and the
 * main process: every channel name, every request and response, every main → page event,
 * and the API the preload exposes as `window.magicMirror`. The single home of these facts:
 * preload/ and main/ipc/ import the channel names from here, the page imports the types.
 *
 * Every page → main call is an `invoke` (so a refused call rejects with a reason instead of
 * vanishing). Main validates the sender and the payload of each call (main/ipc/).
 */
import type { ClientMessage, MirrorProblem, ServerMessage } from './mirror-protocol.js';
import type { Settings, SettingsProblem } from './settings.js';

// ── page → main requests ─────────────────────────────────────────────────────
export const INVOKE = {
  /** Opens a mirror link (a session-core connection, like the web mode's WebSocket). */
  mirrorConnect: 'mirror:connect',
  /** One page → server message of common/mirror-protocol.ts on an open link. */
  mirrorSend: 'mirror:send',
  mirrorDisconnect: 'mirror:disconnect',
  settingsGet: 'settings:get',
  settingsSet: 'settings:set',
  /** Tries a media server URI (or the built-in engine) without saving it. */
  settingsTestConnection: 'settings:test-connection',
  noticesList: 'notices:list',
  noticesDismiss: 'notices:dismiss',
} as const;

export interface LinkRef {
  /** Which link: a page that reconnects gets a new id, and messages for an old one are refused. */
  linkId: number;
}

export interface SettingsSnapshot {
  settings: Settings;
  /** What "Reset to defaults" puts back. */
  defaults: Settings;
}

/**
 * settings:set's request: the settings, and with kiosk mode turned on while no staff PIN is
 * usable, the new staff PIN (main/kiosk/settings-guard.ts: the main process hashes it into
 * kiosk-pin.json, never into settings.json; kiosk: true without a usable PIN is refused).
 */
export type SettingsSaveRequest = Settings & { newStaffPin?: string };

export type SettingsSaveResult = { ok: true; settings: Settings } | { ok: false; problems: SettingsProblem[] };

export interface ConnectionTestRequest {
  kmsUri: string;
  timeoutMs: number;
}

export type ConnectionTestResult = (
  /** message names the server and its version; version is the Kurento version it reports. */
  | { ok: true; message: string; version: string }
  | { ok: false; problem: MirrorProblem; message: string }
) & {
  /** For a list of media servers: each one's own result (ok: at least one answers). */
  servers?: { uri: string; ok: boolean; message: string }[];
};

export interface InvokeContract {
  'mirror:connect': { request: undefined; response: LinkRef };
  'mirror:send': { request: LinkRef & { message: ClientMessage }; response: void };
  'mirror:disconnect': { request: LinkRef; response: void };
  'settings:get': { request: undefined; response: SettingsSnapshot };
  /** Invalid settings are answered with their problems (nothing saved), not thrown. */
  'settings:set': { request: SettingsSaveRequest; response: SettingsSaveResult };
  'settings:test-connection': { request: ConnectionTestRequest; response: ConnectionTestResult };
  'notices:list': { request: undefined; response: AppNotice[] };
  'notices:dismiss': { request: { id: string }; response: void };
}

export type InvokeChannel = keyof InvokeContract;
export type InvokeRequest<C extends InvokeChannel> = InvokeContract[C]['request'];
export type InvokeResponse<C extends InvokeChannel> = InvokeContract[C]['response'];

// ── main → page events ───────────────────────────────────────────────────────
export const EVENT = {
  mirrorMessage: 'mirror:message',
  /** The main side ended the link (its session ended, or the service stopped). */
  mirrorClosed: 'mirror:closed',
  noticeAdded: 'notices:added',
} as const;

/** Something the app tells the person outside a mirror session. */
export interface AppNotice {
  id: string;
  level: 'info' | 'warning' | 'error';
  /** A sentence fit to show as is. */
  text: string;
  /** The page should open its Settings view with this notice (the fix is a setting). */
  opensSettings: boolean;
}

export interface EventContract {
  'mirror:message': LinkRef & { message: ServerMessage };
  'mirror:closed': LinkRef;
  'notices:added': AppNotice;
}

export type EventChannel = keyof EventContract;
export type EventPayload<C extends EventChannel> = EventContract[C];

// ── the bridged API: window.magicMirror ──────────────────────────────────────
/** Stops a subscription. */
export type Unsubscribe = () => void;

/**
 * One mirror link over IPC: the same four methods as the page's MirrorTransport
 * (renderer/transport/transport.ts), so the page can use it as one.
 */
export interface MirrorLinkApi {
  send(message: ClientMessage): void;
  /** Sets the listener for server messages (a new one replaces the old). */
  onMessage(listener: (message: ServerMessage) => void): void;
  /** Sets the listener called once when main ends the link. */
  onClose(listener: () => void): void;
  /** Ends the link; the onClose listener is not called for a close asked for here. */
  close(): void;
}

export interface MagicMirrorApi {
  mirror: {
    /** Opens a link; a page has one at a time (connecting again closes the previous one). */
    connect(): Promise<MirrorLinkApi>;
  };
  settings: {
    get(): Promise<SettingsSnapshot>;
    set(request: SettingsSaveRequest): Promise<SettingsSaveResult>;
    testConnection(request: ConnectionTestRequest): Promise<ConnectionTestResult>;
  };
  notices: {
    /** The notices not yet dismissed, including those raised before the page loaded. */
    list(): Promise<AppNotice[]>;
    dismiss(id: string): Promise<void>;
    onAdded(listener: (notice: AppNotice) => void): Unsubscribe;
  };
}
