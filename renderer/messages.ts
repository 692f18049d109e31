/**
 * Every text the mirror page shows a person, in one place (labels, status lines, problems), so
 * wording stays consistent and a translation is one file. index.html holds none: its elements
 * name a key here with data-text / data-label (see applyTexts in view.ts).
 */
import { PIN_RULES } from '../common/kiosk-contract.js';
import type { BuiltinHatId } from '../common/settings.js';
import type { MirrorProblem } from '../common/mirror-protocol.js';

/** Problems the page finds by itself (the server reports the MirrorProblem ones). */
export type LocalProblem =
  | 'server-unreachable'
  | 'server-timeout'
  | 'insecure-context'
  | 'camera-denied'
  | 'camera-busy'
  | 'no-camera'
  | 'camera-failed'
  | 'camera-lost'
  | 'no-network';

export type Problem = MirrorProblem | LocalProblem;

export interface ProblemText {
  title: string;
  /** What to do about it. */
  hint: string;
  /**
   * blocking: the mirror is black or about to be — a card over the video.
   * notice: the mirror runs but shows no hat — a banner that leaves the video visible.
   */
  weight: 'blocking' | 'notice';
  /** Whether "Try again" (start the mirror afresh) can help. */
  retry: boolean;
}

export const PROBLEMS: Record<Problem, ProblemText> = {
  // ── found by the page ──────────────────────────────────────────────────────
  'server-unreachable': {
    title: 'Can’t reach the Magic Mirror service',
    hint: 'The app’s background service isn’t answering. Make sure Magic Mirror is still running, then try again.',
    weight: 'blocking',
    retry: true,
  },
  'server-timeout': {
    title: 'The mirror service didn’t answer',
    hint: 'It may be busy starting up. Wait a moment, then try again.',
    weight: 'blocking',
    retry: true,
  },
  'insecure-context': {
    title: 'The camera needs a secure page',
    hint: 'Browsers only share the camera with https:// pages or with localhost. Open Magic Mirror that way.',
    weight: 'blocking',
    retry: false,
  },
  'camera-denied': {
    title: 'Camera access is blocked',
    hint: 'Allow the camera for this page (the camera icon in the address bar, or your system’s privacy settings), then try again.',
    weight: 'blocking',
    retry: true,
  },
  'camera-busy': {
    title: 'Your camera is in use by another app',
    hint: 'Close the other app or browser tab that uses the camera (video calls, other camera apps), then try again.',
    weight: 'blocking',
    retry: true,
  },
  'no-camera': {
    title: 'No camera found',
    hint: 'Connect a camera (or pick another one from the list), then try again.',
    weight: 'blocking',
    retry: true,
  },
  'camera-failed': {
    title: 'The camera couldn’t be started',
    hint: 'Pick another camera from the list, or unplug and reconnect this one, then try again.',
    weight: 'blocking',
    retry: true,
  },
  'camera-lost': {
    title: 'The camera stopped',
    hint: 'It may have been unplugged or taken by another app. Reconnect it, then try again.',
    weight: 'blocking',
    retry: true,
  },
  'no-network': {
    title: 'No network path for the video',
    hint: 'This browser found no network address to send video from (its only network is the loopback one, which browsers skip). Connect a network, or use the Magic Mirror app, which allows loopback.',
    weight: 'blocking',
    retry: true,
  },
  // ── reported by the server (MirrorProblem) ─────────────────────────────────
  'kms-unreachable': {
    title: 'The video engine isn’t running',
    hint: 'Magic Mirror can’t reach its media server. Restart Magic Mirror (or start the media server), then try again.',
    weight: 'blocking',
    retry: true,
  },
  'kms-timeout': {
    title: 'The video engine is too slow to answer',
    hint: 'It may be overloaded. Wait a moment, then try again.',
    weight: 'blocking',
    retry: true,
  },
  'kms-lost': {
    title: 'The video engine stopped',
    hint: 'The connection to the media server was lost. Try again; if it keeps happening, restart Magic Mirror.',
    weight: 'blocking',
    retry: true,
  },
  'engine-failed': {
    title: 'The video engine ran into a problem',
    hint: 'It couldn’t set up the mirror. Try again; if it keeps happening, restart Magic Mirror.',
    weight: 'blocking',
    retry: true,
  },
  'bad-offer': {
    title: 'This browser’s video format isn’t supported',
    hint: 'The video engine couldn’t agree on a format with this browser. Try again, or use a current Chrome, Edge or Firefox.',
    weight: 'blocking',
    retry: true,
  },
  'ice-failed': {
    title: 'The video connection couldn’t be made',
    hint: 'Your camera and the video engine can’t reach each other. A VPN or firewall may be in the way; switch it off, then try again.',
    weight: 'blocking',
    retry: true,
  },
  'no-media': {
    title: 'No video is coming through',
    hint: 'The connection is up but no picture arrives. Try again; if it stays black, pick another camera.',
    weight: 'blocking',
    retry: true,
  },
  'hat-failed': {
    title: 'The hat couldn’t be loaded',
    hint: 'You’re seeing the mirror without a hat. Try again to reload it.',
    weight: 'notice',
    retry: true,
  },
  'no-face': {
    title: 'Looking for a face…',
    hint: 'Face the camera with your whole head in view and some light on your face.',
    weight: 'notice',
    retry: false,
  },
  busy: {
    title: 'The mirror is busy',
    hint: 'Too many mirrors are running right now. Close one, or wait a moment, then try again.',
    weight: 'blocking',
    retry: true,
  },
  internal: {
    title: 'Something went wrong',
    hint: 'Magic Mirror hit an unexpected error. Try again; if it keeps happening, restart Magic Mirror.',
    weight: 'blocking',
    retry: true,
  },
};

/** Labels, tooltips and status lines. */
export const TEXT = {
  appName: 'Magic Mirror',
  start: 'Start',
  starting: 'Starting…',
  stop: 'Stop',
  tryAgain: 'Try again',
  camera: 'Camera',
  mirror: 'Mirror',
  cameraPicker: 'Camera to use',
  cameraDefault: 'Default camera',
  cameraUnnamed: (n: number) => `Camera ${n}`,
  unmute: 'Turn mirror sound on',
  mute: 'Turn mirror sound off',
  showStats: 'Show connection stats',
  hideStats: 'Hide connection stats',
  snapshot: 'Save a snapshot (PNG)',
  placeholderTitle: 'Put on a hat',
  placeholderHint: 'Press Start and look into the camera: everyone in the picture gets a hat.',
  cameraOff: 'Camera off',
  tipsTitle: 'For the best hat',
  tipFace: 'Face the camera with your whole head in the picture.',
  tipLight: 'Light your face from the front, not from a window behind you.',
  tipFriends: 'Bring friends: everyone in the picture gets a hat.',
  statsFps: 'fps',
  statsRtt: 'RTT',
  statsIn: 'in',
  statsOut: 'out',
  statsSize: 'size',
  statsServer: 'server',
  statsPool: 'pool',
  /** One media server of a pool in the stats overlay: where it is, and how it is. */
  statsPoolServer: (uri: string, state: string, mirrors: number) => `${uri.replace(/^wss?:\/\//, '').replace(/\/kurento$/, '')} ${state === 'up' ? `up, ${mirrors} mirror${mirrors === 1 ? '' : 's'}` : state}`,
  status: {
    connecting: 'Connecting to the mirror service…',
    ready: 'Ready',
    startingCamera: 'Starting the camera…',
    negotiating: 'Setting up the mirror…',
    startingEngine: 'Starting the media engine…',
    connectingMediaServer: 'Connecting to the media server…',
    waitingForVideo: 'Waiting for the first picture…',
    live: 'Mirror is live',
    unstable: 'Connection is unstable…',
    /** The media server was lost and another takes the mirror (a pool): shown until it is live again. */
    reconnecting: 'Reconnecting…',
    stopped: 'Mirror stopped',
    stoppedByServer: (reason: string) => `The mirror was stopped: ${reason}`,
    serverUnreachable: 'Not connected to the mirror service',
    snapshotSaved: 'Snapshot saved',
  },
} as const;

/** Kiosk mode (renderer/kiosk*.ts): the reconnecting card and the staff dialog. */
export const KIOSK_TEXT = {
  reconnecting: 'Reconnecting…',
  reconnectingIn: (seconds: number) => (seconds > 0 ? `Trying again in ${seconds} s` : 'Trying again now…'),
  attempt: (n: number) => `Attempt ${n}`,
  resuming: 'Waiting for the video engine to come back…',
  waitingForCamera: 'Waiting for the camera…',
  waitingForCameraHint: 'Plug the camera back in: the mirror comes back by itself.',
  gaveUp: 'The mirror can’t start by itself',
  staffTitle: 'Staff',
  enterPin: 'Enter the staff PIN',
  choosePin: 'Choose a staff PIN (4 to 8 digits)',
  confirmPin: 'Enter the same PIN again',
  pinMismatch: 'The two PINs differ. Try again.',
  wrongPin: (left: number) => `Wrong PIN. ${left} ${left === 1 ? 'try' : 'tries'} left before a pause.`,
  lockedOut: (seconds: number) => `Too many wrong PINs. Try again in ${seconds} s.`,
  noStaffBridge: 'Staff controls are only in the Magic Mirror app. In a browser kiosk, leave through the browser.',
  unlock: 'Unlock',
  cancel: 'Cancel',
  exitKiosk: 'Quit Magic Mirror',
  openSettings: 'Settings',
  changePin: 'Change PIN',
  backToMirror: 'Back to the mirror',
  pinSaved: 'PIN saved.',
} as const;

/** The desktop app's Settings dialog and notices (renderer/settings/; web mode has neither). */
export const SETTINGS_TEXT = {
  open: 'Settings',
  title: 'Settings',
  subtitle: 'Saved settings take effect at once: a running mirror restarts with them.',
  close: 'Close settings',
  // ── media server ──
  serverSection: 'Media server',
  kmsUri: 'Media server address',
  kmsUriHint: '“builtin”: the media server inside Magic Mirror. Or a Kurento Media Server’s address, like ws://localhost:8888/kurento. Several, separated by commas, share the mirrors between them.',
  kmsUriIssue: {
    empty: 'Enter “builtin” or the address of a Kurento media server (several: separated by commas).',
    spaces: 'The address can’t contain spaces.',
    scheme: 'Start the address with ws:// or wss:// (like ws://localhost:8888/kurento), or enter “builtin”.',
    host: 'Add the server’s host name after ws://, like ws://localhost:8888/kurento.',
    invalid: 'That isn’t a valid address. Use the form ws://host:port/kurento.',
  },
  useBuiltin: 'Use built-in',
  testConnection: 'Test connection',
  testServers: (ok: number, of: number) => `${ok} of ${of} media servers answer.`,
  testing: 'Connecting…',
  testOk: 'Connected',
  testVersion: (version: string) => `Kurento ${version}`,
  testFaceOverlay: 'FaceOverlayFilter available',
  testFailed: {
    'kms-unreachable': 'Can’t use this server',
    'kms-timeout': 'No answer',
    'engine-failed': 'The built-in media server didn’t start',
    other: 'Connection failed',
  } as Record<string, string>,
  // ── hat ──
  hatSection: 'Hat',
  hats: { 'top-hat': 'Top hat', 'party-hat': 'Party hat', crown: 'Crown', glasses: 'Sunglasses', mask: 'Masquerade mask' } satisfies Record<BuiltinHatId, string> as Record<string, string>,
  ownHat: 'Your own',
  eachFace: 'Each their own',
  ownHatLabel: 'PNG file or web address',
  ownHatPlaceholder: '/home/you/hat.png or https://example.org/hat.png',
  ownHatEmpty: 'Enter the full path of a .png file, or its http(s):// address.',
  // ── placement ──
  placementSection: 'Hat placement',
  placementHint: 'In face sizes, as Kurento’s FaceOverlayFilter takes them: the hat is width × height faces, shifted from the face’s top-left corner by the offsets.',
  offsetX: 'Offset X',
  offsetY: 'Offset Y',
  width: 'Width',
  height: 'Height',
  resetPlacement: 'Default placement',
  previewLabel: 'Preview of the hat on a still photo',
  previewCaption: 'The dashed box is the face the mirror finds.',
  previewOwnHat: 'Your hat',
  numberIssue: {
    empty: 'Enter a number.',
    notNumber: 'Enter a number, like -0.35.',
    comma: 'Use a point for decimals, like 1.5.',
    character: (c: string) => `Numbers only: “${c}” can’t be part of one (Kurento ignores values like -0.35F).`,
  },
  // ── network ──
  networkSection: 'Network (STUN / TURN)',
  networkHint: 'For a media server behind NAT or a firewall: the servers it uses for its side of the video connection.',
  useStun: 'STUN server',
  useTurn: 'TURN server',
  host: 'Host',
  port: 'Port',
  username: 'User name',
  password: 'Password',
  transport: 'Transport',
  // ── camera ──
  cameraSection: 'Camera',
  cameraDefault: 'Default camera',
  cameraMissing: 'Saved camera (not connected)',
  cameraUnnamed: (n: number) => `Camera ${n}`,
  // ── kiosk mode ──
  kioskSection: 'Kiosk mode',
  kiosk: 'Run as a kiosk',
  kioskHint: 'Full screen with the mirror alone: it starts and recovers by itself. Staff leave or change settings with Ctrl+Alt+K and the staff PIN.',
  kioskPinSet: 'A staff PIN is set. Staff can change it in kiosk mode, from the staff dialog.',
  kioskPinNeeded: 'Choose the staff PIN now: without it, nobody could leave the kiosk or change its settings.',
  kioskPinDamaged: 'The staff PIN file is damaged. Choose a new staff PIN: it replaces the old one.',
  staffPin: 'New staff PIN',
  staffPinAgain: 'The same PIN again',
  staffPinHint: `${PIN_RULES.minDigits} to ${PIN_RULES.maxDigits} digits, not all the same and not a run like 1234. Kept hashed by Magic Mirror, never in the settings file.`,
  staffPinIssue: {
    empty: `Choose a staff PIN of ${PIN_RULES.minDigits} to ${PIN_RULES.maxDigits} digits.`,
    digits: `Use ${PIN_RULES.minDigits} to ${PIN_RULES.maxDigits} digits, nothing else.`,
    easy: 'Too easy to guess: not one digit repeated, and not a run like 1234 or 9876.',
    digitsOnly: 'Digits only.',
    again: 'Enter the same PIN again here.',
    mismatch: 'The two PINs differ: enter the same PIN twice.',
  },
  // ── footer ──
  resetAll: 'Reset to defaults',
  cancel: 'Cancel',
  save: 'Save',
  saving: 'Saving…',
  saved: 'Settings saved.',
  fixFields: 'Some settings need fixing: see the fields marked in red.',
  saveFailed: (why: string) => `The settings could not be saved: ${why}`,
  loadFailed: (why: string) => `The settings could not be loaded: ${why}`,
  // ── notices ──
  notices: 'Messages',
  dismiss: 'Dismiss',
  openSettings: 'Open settings',
} as const;
