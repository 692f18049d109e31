/**
 * The app's settings as the Settings page edits them and the main process stores them
 * (main/settings/: schema, defaults, the file). Types only: the rules live in main, which
 * answers a save with per-field problems.
 */

/** The hats (and eyewear) that ship with the app. */
export const BUILTIN_HATS = ['top-hat', 'party-hat', 'crown', 'glasses', 'mask'] as const;
export type BuiltinHatId = (typeof BUILTIN_HATS)[number];

/**
 * The built-ins worn on the eyes, with where they sit: fractions of the face box as for a hat,
 * around a typical face's eyes (their art: scripts/make-hats.ts). The app tags their filter
 * to anchor on each face's own eyes (common/filter-tags.ts ANCHOR_TAG).
 */
export const EYE_PIECES: Partial<Record<BuiltinHatId, HatOverlay>> = {
  glasses: { offsetXPercent: 0.02, offsetYPercent: 0.22, widthPercent: 0.96, heightPercent: 0.32 },
  mask: { offsetXPercent: -0.02, offsetYPercent: 0.14, widthPercent: 1.04, heightPercent: 0.44 },
};

/** What the chosen image follows: a hat the face box (as KMS), glasses and masks the eyes. */
export function anchorOf(hat: HatChoice): 'face' | 'eyes' {
  return hat.kind === 'builtin' && EYE_PIECES[hat.id] ? 'eyes' : 'face';
}

/** The hats that take turns when each face gets its own (same placement: the tutorial's). */
export const EACH_FACE_HATS = ['top-hat', 'party-hat', 'crown'] as const satisfies readonly BuiltinHatId[];

/** `--hat` / a settings file's plain-string hat for { kind: 'each-face' }. */
export const EACH_FACE = 'each-face';

export type HatChoice =
  | { kind: 'builtin'; id: BuiltinHatId }
  /** Each face its own built-in hat, EACH_FACE_HATS in turn. */
  | { kind: 'each-face' }
  /** A PNG of the person's own: an absolute file path, or a file:, http: or https: URL. */
  | { kind: 'image'; uri: string };

/**
 * Where the hat sits relative to each face, as fractions of the face box: the four numbers of
 * FaceOverlayFilter.setOverlayedImage (same names as main/defaults.ts HatPlacement).
 */
export interface HatOverlay {
  offsetXPercent: number;
  offsetYPercent: number;
  widthPercent: number;
  heightPercent: number;
}

export interface StunServer {
  /** Host name or IP address. */
  host: string;
  port: number;
}

export interface TurnServer {
  host: string;
  port: number;
  username: string;
  password: string;
  transport: 'udp' | 'tcp';
}

export interface Settings {
  /** 'builtin' (the embedded media engine) or a Kurento Media Server's ws:// or wss:// URL. */
  kmsUri: string;
  hat: HatChoice;
  overlay: HatOverlay;
  stun: StunServer | null;
  turn: TurnServer | null;
  /** The camera's deviceId (MediaDeviceInfo.deviceId); '' for the system default. */
  cameraDeviceId: string;
  /** Full screen, no window controls; staff leave with the staff PIN. Saved true only with a usable PIN (main/kiosk/settings-guard.ts). */
  kiosk: boolean;
}

/** Which setting is wrong and why, for the field on the Settings page. */
export interface SettingsProblem {
  /** Dotted path, e.g. 'kmsUri' or 'overlay.widthPercent'. */
  path: string;
  message: string;
}
