/**
 * The desktop app's Settings dialog (a modal <dialog>): media server with "Test connection",
 * hat (built-in or the person's PNG), hat placement as numbers with a live preview, STUN/TURN,
 * camera, kiosk mode. It checks what it can while the person types (an address that is not
 * `builtin` or ws(s)://, text in a number field); Save sends everything to the main process,
 * which checks it all again and answers per-field problems, shown next to their fields.
 *
 * Kiosk mode turned on while no staff PIN is usable (kiosk:status): the dialog asks for a new
 * PIN, twice, and Save sends it with the settings (settings:set's newStaffPin); the main
 * process sets both or neither, and refuses kiosk mode without a PIN.
 */
import type { ConnectionTestResult, MagicMirrorApi, SettingsSnapshot } from '../../common/ipc-contract.js';
import { PIN_RULES, pinIssue, type KioskApi, type KioskStatus } from '../../common/kiosk-contract.js';
import { BUILTIN_HATS, EACH_FACE, EACH_FACE_HATS, EYE_PIECES, type BuiltinHatId, type HatOverlay, type Settings, type SettingsProblem } from '../../common/settings.js';

const BUILTIN_OVERLAY_KEYS = ['offsetXPercent', 'offsetYPercent', 'widthPercent', 'heightPercent'] as const;
import { SETTINGS_TEXT as T } from '../messages.js';
import { h, icon, ICONS } from './dom.js';
import { fieldForProblem, hatUriIssue, kmsUriIssue, readNumber, refusedCharacter, sentence, type NumberIssue } from './fields.js';
import { HatPreview, type PreviewHat } from './hat-preview.js';

/** The built-in hats' images (the same files the hat server gives the media server). */
const HAT_IMAGES: Record<string, string> = {
  'top-hat': new URL('../../assets/hats/top-hat.png', import.meta.url).href,
  'party-hat': new URL('../../assets/hats/party-hat.png', import.meta.url).href,
  crown: new URL('../../assets/hats/crown.png', import.meta.url).href,
  glasses: new URL('../../assets/hats/glasses.png', import.meta.url).href,
  mask: new URL('../../assets/hats/mask.png', import.meta.url).href,
};
/** The preview photo: test/fixtures/astronaut.png as a JPEG, same size (NASA, public domain; see renderer/images/LICENSE.md). */
const PREVIEW_PHOTO = new URL('../images/preview-face.jpg', import.meta.url).href;
/** Its face box as KMS 7 finds it (measured on a real KMS; test/helpers/face-clip.ts). */
const PREVIEW_FACE = { x: 168.5, y: 60.8, width: 107.7, height: 107.7 };
const TEST_TIMEOUT_MS = 8000;

const NUMBER_FIELDS = [
  { key: 'offsetXPercent', field: 'offset-x', label: T.offsetX, step: '0.05' },
  { key: 'offsetYPercent', field: 'offset-y', label: T.offsetY, step: '0.05' },
  { key: 'widthPercent', field: 'width', label: T.width, step: '0.05' },
  { key: 'heightPercent', field: 'height', label: T.height, step: '0.05' },
] as const;

export interface SettingsDialogOptions {
  api: MagicMirrorApi['settings'];
  /** The staff PIN's state (window.magicMirrorKiosk); without it no PIN is asked for (the main process still refuses kiosk mode without one). */
  kiosk?: Pick<KioskApi, 'status'>;
  /** After a successful save, with what was saved. */
  saved(settings: Settings): void;
  /** The list of notices to show at the top of the dialog. */
  notices: HTMLElement;
}

function numberIssueText(issue: NumberIssue): string {
  switch (issue.kind) {
    case 'empty':
      return T.numberIssue.empty;
    case 'not-a-number':
      return T.numberIssue.notNumber;
    case 'comma':
      return T.numberIssue.comma;
    case 'character':
      return T.numberIssue.character(issue.character);
  }
}

export class SettingsDialog {
  readonly element: HTMLDialogElement;
  private readonly form: HTMLFormElement;
  private readonly inputs = new Map<string, HTMLInputElement | HTMLSelectElement>();
  private readonly errors = new Map<string, HTMLElement>();
  /** Fields whose message is shown away from them, so it starts with their label. */
  private readonly errorPrefixes = new Map<string, string>();
  /** Issues found while typing, by field; Save waits until there are none. */
  private readonly typedIssues = new Map<string, string>();
  private readonly hatRadios = new Map<string, HTMLInputElement>();
  private readonly hatImages = new Map<string, HTMLImageElement>();
  private readonly ownHatRow: HTMLElement;
  private readonly testButton: HTMLButtonElement;
  private readonly testResult: HTMLElement;
  private readonly saveButton: HTMLButtonElement;
  private readonly status: HTMLElement;
  private readonly network: HTMLDetailsElement;
  private readonly preview: HatPreview;
  private readonly pinBlock: HTMLElement;
  private readonly pinIntro: HTMLElement;
  private readonly pinSetNote: HTMLElement;
  /** The staff PIN file as the main process last said (undefined: not known). */
  private pinState?: KioskStatus['pin'];
  private snapshot?: SettingsSnapshot;
  /** The last placement whose four numbers were all valid (the preview keeps it while one is being typed). */
  private lastOverlay?: HatOverlay;
  private testRun = 0;
  private opening?: Promise<void>;

  constructor(private readonly o: SettingsDialogOptions) {
    // ── media server ──
    const kms = this.textInput('kms-uri', { spellcheck: false, autocomplete: 'off', attrs: { autocapitalize: 'off', inputmode: 'url' } });
    this.testButton = h('button', { type: 'button', id: 'settings-test', class: 'button button-ghost' }, icon(ICONS.plug), h('span', { text: T.testConnection }));
    this.testResult = h('div', { id: 'settings-test-result', class: 'test-result', attrs: { role: 'status', 'aria-live': 'polite' }, hidden: true });
    const useBuiltin = h('button', { type: 'button', id: 'settings-use-builtin', class: 'link-button', text: T.useBuiltin });
    const serverSection = this.section('server', T.serverSection, [
      this.field('kms-uri', T.kmsUri, h('div', { class: 'input-row' }, kms, this.testButton), T.kmsUriHint, useBuiltin, true),
      this.testResult,
    ]);

    // ── hat ──
    const tiles = h('div', { class: 'hat-tiles', attrs: { role: 'radiogroup', 'aria-labelledby': 'settings-section-hat' } });
    for (const id of BUILTIN_HATS) {
      // Hats are square with the art at the top; glasses and masks are wide: shown whole.
      const img = h('img', { src: HAT_IMAGES[id]!, alt: '', class: EYE_PIECES[id] ? 'hat-thumb hat-thumb-wide' : 'hat-thumb', attrs: { draggable: 'false' } });
      img.addEventListener('load', () => this.drawPreview());
      this.hatImages.set(id, img);
      tiles.append(this.hatTile(id, T.hats[id]!, img));
    }
    const trio = EACH_FACE_HATS.map((id) => h('img', { src: HAT_IMAGES[id]!, alt: '', attrs: { draggable: 'false' } }));
    tiles.append(this.hatTile(EACH_FACE, T.eachFace, h('span', { class: 'hat-thumb hat-thumb-trio' }, ...trio)));
    tiles.append(this.hatTile('image', T.ownHat, h('span', { class: 'hat-thumb hat-thumb-own' }, icon(ICONS.upload))));
    const hatUri = this.textInput('hat-uri', { placeholder: T.ownHatPlaceholder, spellcheck: false, autocomplete: 'off' });
    this.ownHatRow = this.field('hat-uri', T.ownHatLabel, hatUri);
    const hatError = h('p', { class: 'field-error', id: 'settings-hat-error', hidden: true });
    this.errors.set('hat', hatError);
    const hatSection = this.section('hat', T.hatSection, [tiles, this.ownHatRow, hatError]);

    // ── placement + preview ──
    const numbers = h('div', { class: 'number-grid' });
    // The fields are narrow: their messages go under the row, each naming its field.
    const numberErrors = h('div', { class: 'number-errors' });
    for (const n of NUMBER_FIELDS) {
      const input = this.numberInput(n.field, { step: n.step, min: n.key.startsWith('offset') ? '-10' : '0.01', max: '10' });
      numbers.append(this.field(n.field, n.label, input));
      numberErrors.append(this.errors.get(n.field)!);
      this.errorPrefixes.set(n.field, n.label);
    }
    const placementError = h('p', { class: 'field-error', id: 'settings-placement-error', hidden: true });
    this.errors.set('placement', placementError);
    const resetPlacement = h('button', { type: 'button', id: 'settings-reset-placement', class: 'link-button', text: T.resetPlacement });
    const canvas = h('canvas', { id: 'settings-preview', class: 'hat-preview', width: 560, height: 420, attrs: { role: 'img', 'aria-label': T.previewLabel } });
    const photo = h('img', { src: PREVIEW_PHOTO, alt: '' });
    photo.addEventListener('load', () => this.drawPreview());
    this.preview = new HatPreview(canvas, photo, PREVIEW_FACE, {
      backdrop: '#0b0c15',
      faceBox: 'rgba(255, 201, 77, 0.9)',
      placeholderFill: 'rgba(139, 108, 255, 0.35)',
      placeholderStroke: '#b9a6ff',
      placeholderText: '#ffffff',
    });
    const previewSection = this.section('placement', T.placementSection, [
      h('figure', { class: 'preview-figure' }, canvas, h('figcaption', { class: 'preview-caption', text: T.previewCaption })),
      numbers,
      numberErrors,
      placementError,
      h('div', { class: 'section-foot' }, h('p', { class: 'field-hint', text: T.placementHint }), resetPlacement),
    ]);

    // ── network ──
    const stunOn = this.checkbox('stun-on', T.useStun);
    const turnOn = this.checkbox('turn-on', T.useTurn);
    const transport = this.select('turn-transport', [
      ['udp', 'UDP'],
      ['tcp', 'TCP'],
    ]);
    this.network = h(
      'details',
      { class: 'settings-section network', id: 'settings-network' },
      h('summary', { class: 'section-title', text: T.networkSection }),
      h('p', { class: 'field-hint', text: T.networkHint }),
      h('div', { class: 'server-block' }, stunOn, h('div', { class: 'server-grid' },
        this.field('stun-host', T.host, this.textInput('stun-host', { spellcheck: false, autocomplete: 'off', placeholder: 'stun.example.org' })),
        this.field('stun-port', T.port, this.numberInput('stun-port', { step: '1', min: '1', max: '65535', placeholder: '3478' })))),
      h('div', { class: 'server-block' }, turnOn,
        h('div', { class: 'server-grid' },
          this.field('turn-host', T.host, this.textInput('turn-host', { spellcheck: false, autocomplete: 'off', placeholder: 'turn.example.org' })),
          this.field('turn-port', T.port, this.numberInput('turn-port', { step: '1', min: '1', max: '65535', placeholder: '3478' }))),
        h('div', { class: 'server-grid server-grid-credentials' },
          this.field('turn-username', T.username, this.textInput('turn-username', { spellcheck: false, autocomplete: 'off' })),
          this.field('turn-password', T.password, this.textInput('turn-password', { type: 'password', autocomplete: 'new-password' })),
          this.field('turn-transport', T.transport, transport))),
    );

    // ── camera ──
    const camera = this.select('camera', []);
    const cameraSection = this.section('camera', T.cameraSection, [this.field('camera', T.cameraSection, camera, undefined, undefined, true)]);

    // ── kiosk mode (a new staff PIN with it when none is usable) ──
    const kioskBox = this.checkbox('kiosk', T.kiosk);
    const kioskError = h('p', { class: 'field-error', id: 'settings-kiosk-error', hidden: true });
    this.errors.set('kiosk', kioskError);
    this.inputs.get('kiosk')!.setAttribute('aria-describedby', 'settings-kiosk-error settings-kiosk-hint');
    this.pinSetNote = h('p', { class: 'field-hint kiosk-pin-set', id: 'settings-kiosk-pin-set', text: T.kioskPinSet, hidden: true });
    this.pinIntro = h('p', { class: 'kiosk-pin-intro', id: 'settings-staff-pin-intro' });
    this.pinBlock = h('div', { class: 'kiosk-pin', id: 'settings-staff-pin-block', hidden: true, attrs: { role: 'group', 'aria-labelledby': 'settings-staff-pin-intro' } },
      this.pinIntro,
      h('div', { class: 'kiosk-pin-grid' },
        this.field('staff-pin', T.staffPin, this.pinInput('staff-pin')),
        this.field('staff-pin-again', T.staffPinAgain, this.pinInput('staff-pin-again'))),
      h('p', { class: 'field-hint', text: T.staffPinHint }));
    const kioskSection = this.section('kiosk', T.kioskSection, [
      kioskBox,
      h('p', { class: 'field-hint kiosk-hint', id: 'settings-kiosk-hint', text: T.kioskHint }),
      kioskError,
      this.pinSetNote,
      this.pinBlock,
    ]);

    // ── frame ──
    const closeButton = h('button', { type: 'button', class: 'icon-button settings-close', attrs: { 'aria-label': T.close }, title: T.close }, icon(ICONS.close));
    const resetAll = h('button', { type: 'button', id: 'settings-reset', class: 'button button-ghost', text: T.resetAll });
    const cancel = h('button', { type: 'button', id: 'settings-cancel', class: 'button button-ghost', text: T.cancel });
    this.saveButton = h('button', { type: 'submit', id: 'settings-save', class: 'button button-primary button-save', text: T.save });
    this.status = h('p', { id: 'settings-status', class: 'settings-status', attrs: { role: 'status', 'aria-live': 'polite' } });
    this.form = h(
      'form',
      { class: 'settings-form', noValidate: true, method: 'dialog' },
      h('header', { class: 'settings-header' },
        h('div', {}, h('h2', { id: 'settings-title', class: 'settings-title', text: T.title }), h('p', { class: 'settings-subtitle', text: T.subtitle })),
        closeButton),
      h('div', { class: 'settings-body' },
        o.notices,
        h('div', { class: 'settings-column' }, serverSection, hatSection, cameraSection, this.network),
        h('div', { class: 'settings-column' }, previewSection, kioskSection)),
      h('footer', { class: 'settings-footer' }, resetAll, this.status, cancel, this.saveButton),
    );
    this.element = h('dialog', { id: 'settings', class: 'settings-dialog', attrs: { 'aria-labelledby': 'settings-title' } }, this.form);
    document.body.append(this.element);

    // ── behaviour ──
    kms.addEventListener('input', () => {
      this.checkKmsUri();
      this.testResult.hidden = true;
    });
    useBuiltin.addEventListener('click', () => {
      kms.value = 'builtin';
      this.checkKmsUri();
      this.testResult.hidden = true;
    });
    this.testButton.addEventListener('click', () => void this.testConnection());
    hatUri.addEventListener('input', () => {
      this.showIssue('hat', undefined);
      this.drawPreview();
    });
    resetPlacement.addEventListener('click', () => {
      const choice = [...this.hatRadios].find(([, r]) => r.checked)?.[0];
      const own = EYE_PIECES[choice as BuiltinHatId] ?? this.snapshot?.defaults.overlay;
      if (own) this.fillOverlay(own);
    });
    for (const [box, prefix] of [[stunOn, 'stun'], [turnOn, 'turn']] as const) {
      box.querySelector('input')!.addEventListener('change', () => this.syncServerFields(prefix));
    }
    kioskBox.querySelector('input')!.addEventListener('change', () => {
      this.showIssue('kiosk', undefined);
      this.syncKiosk();
      if (!this.pinBlock.hidden) this.inputs.get('staff-pin')!.focus();
    });
    // Kiosk mode is not a mirror setting to reset: the switch stays as it is (a kiosk's staff would otherwise leave kiosk mode by resetting the hat).
    resetAll.addEventListener('click', () => this.snapshot && this.fill({ ...this.snapshot.defaults, kiosk: this.isChecked('kiosk') }));
    cancel.addEventListener('click', () => this.close());
    closeButton.addEventListener('click', () => this.close());
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.save();
    });
    this.element.addEventListener('close', () => {
      if (location.hash === '#settings') history.replaceState(null, '', `${location.pathname}${location.search}`);
    });
  }

  get isOpen(): boolean {
    return this.element.open;
  }

  /** Loads the current settings and the cameras into the form and shows the dialog (again: just brings it forward). */
  open(): Promise<void> {
    if (this.element.open) return Promise.resolve();
    this.opening ??= this.load().finally(() => (this.opening = undefined));
    return this.opening;
  }

  close(): void {
    this.testRun++;
    if (this.element.open) this.element.close();
  }

  private async load(): Promise<void> {
    this.status.textContent = '';
    this.status.dataset.tone = '';
    const pinState = this.readPinState();
    try {
      this.snapshot = await this.o.api.get();
    } catch (err) {
      this.status.textContent = T.loadFailed((err as Error).message);
      this.status.dataset.tone = 'error';
      this.element.showModal();
      return;
    }
    await this.fillCameras(this.snapshot.settings.cameraDeviceId);
    this.pinState = await pinState;
    this.fill(this.snapshot.settings);
    this.network.open = !!(this.snapshot.settings.stun || this.snapshot.settings.turn);
    this.element.showModal();
  }

  // ── filling and reading the form ──────────────────────────────────────────

  private fill(s: Settings): void {
    this.typedIssues.clear();
    for (const key of this.errors.keys()) this.showIssue(key, undefined);
    this.testResult.hidden = true;
    this.value('kms-uri', s.kmsUri);
    this.hatRadios.get(s.hat.kind === 'builtin' ? s.hat.id : s.hat.kind === 'each-face' ? EACH_FACE : 'image')!.checked = true;
    this.value('hat-uri', s.hat.kind === 'image' ? s.hat.uri : '');
    this.fillOverlay(s.overlay);
    this.checked('stun-on', !!s.stun);
    this.value('stun-host', s.stun?.host ?? '');
    this.value('stun-port', s.stun ? String(s.stun.port) : '3478');
    this.checked('turn-on', !!s.turn);
    this.value('turn-host', s.turn?.host ?? '');
    this.value('turn-port', s.turn ? String(s.turn.port) : '3478');
    this.value('turn-username', s.turn?.username ?? '');
    this.value('turn-password', s.turn?.password ?? '');
    this.value('turn-transport', s.turn?.transport ?? 'udp');
    this.syncServerFields('stun');
    this.syncServerFields('turn');
    const camera = this.inputs.get('camera') as HTMLSelectElement;
    camera.value = [...camera.options].some((o) => o.value === s.cameraDeviceId) ? s.cameraDeviceId : '';
    this.syncHatChoice();
    this.checked('kiosk', s.kiosk);
    this.value('staff-pin', '');
    this.value('staff-pin-again', '');
    this.syncKiosk();
  }

  private fillOverlay(overlay: HatOverlay): void {
    for (const n of NUMBER_FIELDS) {
      this.value(n.field, String(overlay[n.key]));
      this.typedIssues.delete(n.field);
      this.showIssue(n.field, undefined);
    }
    this.showIssue('placement', undefined);
    this.lastOverlay = { ...overlay };
    this.drawPreview();
  }

  /** The form as Settings (and the new staff PIN when one is needed), or the fields whose text is not usable yet. */
  private read(): { settings: Settings; newStaffPin?: string } | { issues: Map<string, string> } {
    const issues = new Map(this.typedIssues);
    const kmsUri = this.value('kms-uri');
    const kmsIssue = kmsUriIssue(kmsUri);
    if (kmsIssue) issues.set('kms-uri', T.kmsUriIssue[kmsIssue]);

    const choice = [...this.hatRadios].find(([, r]) => r.checked)?.[0] ?? 'top-hat';
    const hatUri = this.value('hat-uri').trim();
    if (choice === 'image' && hatUriIssue(hatUri)) issues.set('hat', T.ownHatEmpty);

    const overlay = this.readOverlay(issues);
    const num = (field: string) => {
      const r = this.readNumberField(field);
      if (!r.ok) issues.set(field, numberIssueText(r.issue));
      return r.ok ? r.value : 0;
    };
    const stun = this.isChecked('stun-on') ? { host: this.value('stun-host').trim(), port: num('stun-port') } : null;
    const turn = this.isChecked('turn-on')
      ? {
          host: this.value('turn-host').trim(),
          port: num('turn-port'),
          username: this.value('turn-username'),
          password: this.value('turn-password'),
          transport: this.value('turn-transport') as 'udp' | 'tcp',
        }
      : null;
    const newStaffPin = this.readStaffPin(issues);
    if (issues.size > 0 || !overlay) return { issues };
    return {
      newStaffPin,
      settings: {
        kmsUri,
        hat: choice === 'image' ? { kind: 'image', uri: hatUri } : choice === EACH_FACE ? { kind: 'each-face' } : { kind: 'builtin', id: choice as BuiltinHatId },
        overlay,
        stun,
        turn,
        cameraDeviceId: this.value('camera'),
        kiosk: this.isChecked('kiosk'),
      },
    };
  }

  /** Kiosk mode on without a usable staff PIN: the new one (the same twice, by the PIN rules); else nothing. */
  private readStaffPin(issues: Map<string, string>): string | undefined {
    if (!this.pinNeeded()) {
      issues.delete('staff-pin');
      issues.delete('staff-pin-again');
      return undefined;
    }
    const pin = this.value('staff-pin');
    const again = this.value('staff-pin-again');
    const issue = pin === '' ? 'empty' : pinIssue(pin);
    if (issue) issues.set('staff-pin', T.staffPinIssue[issue]);
    else if (again === '') issues.set('staff-pin-again', T.staffPinIssue.again);
    else if (again !== pin) issues.set('staff-pin-again', T.staffPinIssue.mismatch);
    return pin;
  }

  private readOverlay(issues?: Map<string, string>): HatOverlay | undefined {
    const out: Partial<HatOverlay> = {};
    let ok = true;
    for (const n of NUMBER_FIELDS) {
      const r = this.readNumberField(n.field);
      if (r.ok) out[n.key] = r.value;
      else {
        ok = false;
        issues?.set(n.field, this.typedIssues.get(n.field) ?? numberIssueText(r.issue));
      }
    }
    return ok ? (out as HatOverlay) : undefined;
  }

  private readNumberField(field: string) {
    const input = this.inputs.get(field) as HTMLInputElement;
    return readNumber(input.value, input.validity.badInput);
  }

  // ── as the person types ──────────────────────────────────────────────────

  private checkKmsUri(): void {
    const issue = kmsUriIssue(this.value('kms-uri'));
    this.setTypedIssue('kms-uri', issue && T.kmsUriIssue[issue]);
  }

  private setTypedIssue(field: string, message: string | undefined): void {
    if (message) this.typedIssues.set(field, message);
    else this.typedIssues.delete(field);
    this.showIssue(field, message);
  }

  /**
   * Glasses and masks come with their own placement (on the eyes): choosing one puts it in the
   * fields, and leaving one for a hat puts the default hat placement back. Between two hats
   * (or your own image) the numbers stay as the person set them.
   */
  private placeFor(choice: string): void {
    const eyePiece = EYE_PIECES[choice as BuiltinHatId];
    const fromEyePiece = Object.values(EYE_PIECES).some((p) => BUILTIN_OVERLAY_KEYS.every((k) => p![k] === this.lastOverlay?.[k]));
    if (eyePiece) this.fillOverlay(eyePiece);
    else if (fromEyePiece && this.snapshot) this.fillOverlay(this.snapshot.defaults.overlay);
  }

  private pinNeeded(): boolean {
    return this.isChecked('kiosk') && (this.pinState === 'unset' || this.pinState === 'damaged');
  }

  /** The PIN fields while kiosk mode is on and no staff PIN is usable; a note when one is. */
  private syncKiosk(): void {
    const need = this.pinNeeded();
    this.pinBlock.hidden = !need;
    this.pinIntro.textContent = this.pinState === 'damaged' ? T.kioskPinDamaged : T.kioskPinNeeded;
    this.pinSetNote.hidden = !(this.isChecked('kiosk') && this.pinState === 'set');
    if (!need) {
      for (const field of ['staff-pin', 'staff-pin-again']) this.setTypedIssue(field, undefined);
    }
  }

  private async readPinState(): Promise<KioskStatus['pin'] | undefined> {
    try {
      return (await this.o.kiosk?.status())?.pin;
    } catch {
      return undefined;
    }
  }

  private syncHatChoice(): void {
    const own = this.hatRadios.get('image')!.checked;
    this.ownHatRow.hidden = !own;
    this.showIssue('hat', undefined);
    this.drawPreview();
  }

  private syncServerFields(prefix: 'stun' | 'turn'): void {
    const on = this.isChecked(`${prefix}-on`);
    for (const [field, input] of this.inputs) {
      if (!field.startsWith(`${prefix}-`) || field === `${prefix}-on`) continue;
      input.disabled = !on;
      if (!on) {
        this.typedIssues.delete(field);
        this.showIssue(field, undefined);
      }
    }
  }

  private drawPreview(): void {
    const overlay = this.readOverlay();
    if (overlay) this.lastOverlay = overlay;
    const choice = [...this.hatRadios].find(([, r]) => r.checked)?.[0];
    let hat: PreviewHat | undefined;
    // Each their own: the preview's one face wears the first of them.
    if (choice === EACH_FACE) hat = { kind: 'image', image: this.hatImages.get(EACH_FACE_HATS[0])! };
    else if (choice && choice !== 'image') hat = { kind: 'image', image: this.hatImages.get(choice)! };
    // The page may load only its own files (CSP), so a hat of the person's is shown as its frame.
    else if (choice === 'image') hat = { kind: 'placeholder', label: T.previewOwnHat };
    this.preview.draw(hat, this.lastOverlay);
  }

  // ── Test connection and Save ─────────────────────────────────────────────

  private async testConnection(): Promise<void> {
    this.checkKmsUri();
    const kmsUri = this.value('kms-uri');
    if (kmsUriIssue(kmsUri)) {
      this.inputs.get('kms-uri')!.focus();
      return;
    }
    const run = ++this.testRun;
    this.testButton.disabled = true;
    this.showTestResult({ tone: 'busy', title: T.testing });
    let result: ConnectionTestResult;
    try {
      result = await this.o.api.testConnection({ kmsUri, timeoutMs: TEST_TIMEOUT_MS });
    } catch (err) {
      result = { ok: false, problem: 'internal', message: (err as Error).message };
    }
    if (run !== this.testRun) return;
    this.testButton.disabled = false;
    // A list of media servers: each with its own line (the message then only sums them up).
    const servers = result.servers?.map((s) => ({ ok: s.ok, text: s.message }));
    const detail = servers ? T.testServers(servers.filter((s) => s.ok).length, servers.length) : result.message;
    if (result.ok) {
      this.showTestResult({ tone: 'ok', title: T.testOk, badges: [T.testVersion(result.version), T.testFaceOverlay], detail, servers });
    } else {
      this.showTestResult({ tone: 'error', title: T.testFailed[result.problem] ?? T.testFailed.other!, detail, servers });
    }
    this.testResult.dataset.problem = result.ok ? '' : result.problem;
  }

  private showTestResult(r: { tone: 'busy' | 'ok' | 'error'; title: string; badges?: string[]; detail?: string; servers?: { ok: boolean; text: string }[] }): void {
    this.testResult.hidden = false;
    this.testResult.dataset.tone = r.tone;
    const mark = r.tone === 'busy' ? h('span', { class: 'button-spinner test-spinner', attrs: { 'aria-hidden': 'true' } }) : icon(r.tone === 'ok' ? ICONS.check : ICONS.warning);
    this.testResult.replaceChildren(
      mark,
      h('div', { class: 'test-text' },
        h('p', { class: 'test-title' }, h('strong', { text: r.title }), ...(r.badges ?? []).map((b) => h('span', { class: 'badge', text: b }))),
        r.detail ? h('p', { class: 'test-detail', text: r.detail }) : null,
        r.servers ? h('ul', { class: 'test-servers' }, ...r.servers.map((s) => h('li', { class: 'test-detail', attrs: { 'data-ok': String(s.ok) }, text: `${s.ok ? '✓' : '✗'} ${s.text}` }))) : null),
    );
  }

  private async save(): Promise<void> {
    const read = this.read();
    for (const key of this.errors.keys()) this.showIssue(key, undefined);
    if ('issues' in read) {
      for (const [field, message] of read.issues) this.showIssue(field, message);
      this.setStatus('error', T.fixFields);
      this.focusFirstIssue();
      return;
    }
    this.saveButton.disabled = true;
    this.setStatus('busy', T.saving);
    try {
      const { settings, newStaffPin } = read;
      const result = await this.o.api.set(newStaffPin === undefined ? settings : { ...settings, newStaffPin });
      if (!result.ok) {
        // The PIN file may have changed meanwhile (set, deleted): ask again, so the PIN fields match.
        if (result.problems.some((p) => p.path === 'kiosk' || p.path === 'newStaffPin')) {
          this.pinState = await this.readPinState();
          this.syncKiosk();
        }
        return this.showProblems(result.problems);
      }
      if (newStaffPin !== undefined) this.pinState = 'set';
      this.snapshot = { settings: result.settings, defaults: this.snapshot?.defaults ?? result.settings };
      this.setStatus('ok', T.saved);
      this.close();
      this.o.saved(result.settings);
    } catch (err) {
      this.setStatus('error', T.saveFailed((err as Error).message));
    } finally {
      this.saveButton.disabled = false;
    }
  }

  private showProblems(problems: SettingsProblem[]): void {
    const general: string[] = [];
    for (const p of problems) {
      const field = fieldForProblem(p.path);
      if (field && this.errors.has(field)) this.showIssue(field, sentence(p.message));
      else general.push(`${p.path || 'settings'}: ${p.message}`);
    }
    if (problems.some((p) => p.path.startsWith('stun') || p.path.startsWith('turn'))) this.network.open = true;
    this.setStatus('error', general.length ? `${T.fixFields} ${general.join('; ')}` : T.fixFields);
    this.focusFirstIssue();
  }

  private focusFirstIssue(): void {
    const first = [...this.errors].find(([, el]) => !el.hidden)?.[0];
    const input = first && (this.inputs.get(first) ?? (first === 'hat' ? this.inputs.get('hat-uri') : undefined));
    if (input && !input.disabled && !(input.closest('[hidden]'))) input.focus();
  }

  private setStatus(tone: 'busy' | 'ok' | 'error', text: string): void {
    this.status.dataset.tone = tone;
    this.status.textContent = text;
  }

  private showIssue(field: string, message: string | undefined): void {
    const error = this.errors.get(field);
    if (!error) return;
    error.hidden = !message;
    const prefix = this.errorPrefixes.get(field);
    error.replaceChildren(...(message && prefix ? [h('strong', { text: `${prefix}:` }), ' '] : []), message ?? '');
    const input = this.inputs.get(field);
    if (input) {
      if (message) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    }
  }

  // ── cameras ──────────────────────────────────────────────────────────────

  private async fillCameras(saved: string): Promise<void> {
    const select = this.inputs.get('camera') as HTMLSelectElement;
    const devices = (await navigator.mediaDevices?.enumerateDevices().catch(() => [])) ?? [];
    const cameras = devices.filter((d) => d.kind === 'videoinput' && d.deviceId);
    const options = [new Option(T.cameraDefault, '')];
    cameras.forEach((c, i) => options.push(new Option(c.label || T.cameraUnnamed(i + 1), c.deviceId)));
    if (saved && !cameras.some((c) => c.deviceId === saved)) options.push(new Option(T.cameraMissing, saved));
    select.replaceChildren(...options);
  }

  // ── building blocks ──────────────────────────────────────────────────────

  private section(name: string, title: string, children: (Node | null)[]): HTMLElement {
    return h('section', { class: `settings-section section-${name}`, attrs: { 'aria-labelledby': `settings-section-${name}` } },
      h('h3', { class: 'section-title', id: `settings-section-${name}`, text: title }),
      ...children);
  }

  /** A label, the control, an optional hint and extra, and the field's error line. */
  private field(name: string, label: string, control: HTMLElement, hint?: string, extra?: HTMLElement, hideLabel = false): HTMLElement {
    const error = h('p', { class: 'field-error', id: `settings-${name}-error`, hidden: true });
    this.errors.set(name, error);
    const input = this.inputs.get(name);
    input?.setAttribute('aria-describedby', `settings-${name}-error${hint ? ` settings-${name}-hint` : ''}`);
    return h('div', { class: `field field-${name}` },
      h('label', { class: `field-label${hideLabel ? ' visually-hidden' : ''}`, htmlFor: `settings-${name}`, text: label }),
      control,
      error,
      hint || extra ? h('div', { class: 'field-foot' }, hint ? h('p', { class: 'field-hint', id: `settings-${name}-hint`, text: hint }) : null, extra ?? null) : null);
  }

  private textInput(name: string, props: Partial<Pick<HTMLInputElement, 'type' | 'placeholder' | 'spellcheck' | 'autocomplete'>> & { attrs?: Record<string, string> } = {}): HTMLInputElement {
    const input = h('input', { type: 'text', id: `settings-${name}`, class: 'text-input', ...props });
    this.inputs.set(name, input);
    return input;
  }

  /**
   * A number field: type=number, so the page sends numbers (KMS silently ignores a placement
   * sent as text like "-0.35F"). Chromium would drop a letter or a comma typed into it without
   * a word ("1,5" becoming 15): such input is refused with a message instead.
   */
  private numberInput(name: string, attrs: Record<string, string>): HTMLInputElement {
    const input = h('input', { type: 'number', id: `settings-${name}`, class: 'text-input number-input', attrs: { inputmode: 'decimal', ...attrs } });
    input.addEventListener('beforeinput', (e) => {
      const refused = e.data ? refusedCharacter(e.data) : undefined;
      if (!refused) return;
      e.preventDefault();
      this.setTypedIssue(name, numberIssueText(refused));
    });
    input.addEventListener('input', () => {
      const r = readNumber(input.value, input.validity.badInput);
      this.setTypedIssue(name, r.ok ? undefined : numberIssueText(r.issue));
      this.drawPreview();
    });
    this.inputs.set(name, input);
    return input;
  }

  /** A staff PIN field: hidden digits, a digit keyboard on touch screens; other characters refused as typed. */
  private pinInput(name: string): HTMLInputElement {
    const input = h('input', { type: 'password', id: `settings-${name}`, class: 'text-input pin-input', maxLength: PIN_RULES.maxDigits, autocomplete: 'new-password', attrs: { inputmode: 'numeric' } });
    input.addEventListener('beforeinput', (e) => {
      if (!e.data || /^\d*$/.test(e.data)) return;
      e.preventDefault();
      this.setTypedIssue(name, T.staffPinIssue.digitsOnly);
    });
    input.addEventListener('input', () => this.setTypedIssue(name, undefined));
    this.inputs.set(name, input);
    return input;
  }

  private select(name: string, options: [string, string][]): HTMLSelectElement {
    const select = h('select', { id: `settings-${name}`, class: 'text-input select-input' }, ...options.map(([value, label]) => new Option(label, value)));
    this.inputs.set(name, select);
    return select;
  }

  private checkbox(name: string, label: string): HTMLElement {
    const input = h('input', { type: 'checkbox', id: `settings-${name}`, class: 'checkbox' });
    this.inputs.set(name, input);
    return h('label', { class: 'check-row', htmlFor: `settings-${name}` }, input, h('span', { text: label }));
  }

  private hatTile(value: string, label: string, picture: HTMLElement): HTMLElement {
    const radio = h('input', { type: 'radio', name: 'hat', value, id: `settings-hat-${value}`, class: 'hat-radio' });
    radio.addEventListener('change', () => {
      this.placeFor(value);
      this.syncHatChoice();
    });
    this.hatRadios.set(value, radio);
    return h('label', { class: 'hat-tile', htmlFor: `settings-hat-${value}` }, radio, picture, h('span', { class: 'hat-name', text: label }));
  }

  private value(name: string, set?: string): string {
    const input = this.inputs.get(name)!;
    if (set !== undefined) input.value = set;
    return input.value;
  }

  private checked(name: string, on: boolean): void {
    (this.inputs.get(name) as HTMLInputElement).checked = on;
  }

  private isChecked(name: string): boolean {
    return (this.inputs.get(name) as HTMLInputElement).checked;
  }
}
