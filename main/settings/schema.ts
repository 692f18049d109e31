/**
 * What a valid setting is, field by field: used for a save from the Settings page (problems
 * go back to its fields) and for the settings file (an invalid field falls back to its default).
 */
import { kmsUriProblem, normaliseKmsUri } from '../../common/kms-uri.js';
import { OVERLAY_OFFSET_LIMIT, OVERLAY_SIZE_LIMIT } from '../../common/overlay-placement.js';
import { BUILTIN_HATS, type Settings } from '../../common/settings.js';
import { boolean, literal, nullable, number, object, string, variant, type Schema } from '../validation/schema.js';

const MAX_URI = 2048;

function tryUrl(s: string): URL | undefined {
  try {
    return new URL(s);
  } catch {
    return undefined;
  }
}

// The rule is shared with the Settings page, which checks the address as it is typed.
export { kmsUriProblem };

/**
 * A media server address (or comma-separated list): refused with its reason where the URL
 * parser would read another address (common/kms-uri.ts), else passed on and stored as the
 * parser serialises it, so kurento-client and ws parse exactly what was checked.
 */
export function kmsUriSchema(max: number = MAX_URI): Schema<string> {
  const text = string({ min: 1, max, test: kmsUriProblem });
  return {
    check(v, path) {
      const checked = text.check(v, path);
      return checked.ok ? { ok: true, value: normaliseKmsUri(checked.value) } : checked;
    },
  };
}

/** Absolute POSIX (/…), Windows drive (C:\… or C:/…) or UNC (\\server\share\…) path. */
function isAbsolutePath(s: string): boolean {
  return s.startsWith('/') || /^[a-zA-Z]:[\\/]/.test(s) || s.startsWith('\\\\');
}

export function hatImageProblem(s: string): string | undefined {
  const message = 'must be the full path of a .png file, or a file:, http: or https: URL';
  if (/[\0\n\r]/.test(s)) return message;
  // A Windows path like C:\hat.png also parses as a URL with scheme "c:": test paths first.
  if (isAbsolutePath(s)) return /\.png$/i.test(s) ? undefined : message;
  const u = tryUrl(s);
  if (!u) return message;
  if (u.protocol === 'file:') return /\.png$/i.test(u.pathname) ? undefined : message;
  return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname ? undefined : message;
}

const LABEL = '[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?';
const HOST_NAME = new RegExp(`^${LABEL}(\\.${LABEL})*$`);
const IPV6 = /^[0-9a-fA-F:.]+$/;

function hostProblem(s: string): string | undefined {
  return HOST_NAME.test(s) || (s.includes(':') && IPV6.test(s)) ? undefined : 'must be a host name or an IP address';
}

const host = string({ min: 1, max: 253, test: hostProblem });
const port = number({ min: 1, max: 65535, integer: true });
/** Offsets and sizes are in face sizes: generous bounds, but no hat ten faces away. */
const offset = number(OVERLAY_OFFSET_LIMIT);
const size = number({ min: 0.01, max: OVERLAY_SIZE_LIMIT.max });

/** Kurento takes TURN as one "user:password@host:port" string, so ':' and '@' cannot be escaped. */
const turnCredential = (what: string, forbidden: RegExp) =>
  string({ min: 1, max: 256, test: (s) => (forbidden.test(s) ? `must not contain ${what}` : undefined) });

export const SETTING_SCHEMAS: { [K in keyof Settings]: Schema<Settings[K]> } = {
  kmsUri: kmsUriSchema(),
  hat: variant('kind', {
    builtin: object({ kind: literal('builtin'), id: literal(...BUILTIN_HATS) }),
    'each-face': object({ kind: literal('each-face') }),
    image: object({ kind: literal('image'), uri: string({ min: 1, max: MAX_URI, test: hatImageProblem }) }),
  }),
  overlay: object({ offsetXPercent: offset, offsetYPercent: offset, widthPercent: size, heightPercent: size }),
  stun: nullable(object({ host, port })),
  turn: nullable(
    object({
      host,
      port,
      username: turnCredential('":" or "@"', /[:@]/),
      password: turnCredential('"@"', /@/),
      transport: literal('udp', 'tcp'),
    }),
  ),
  cameraDeviceId: string({ max: 512 }),
  kiosk: boolean(),
};

export const SETTINGS_SCHEMA: Schema<Settings> = object(SETTING_SCHEMAS);
