// Browser test of the foundation's pages in Debian's headless Chromium (playwright-core drives
// /usr/bin/chromium; no browser is downloaded). Starts the real `push serve --demo` on SQLite.
// Forms are exercised with JavaScript disabled: every form must work without it.
// Screenshots go to target/screenshots/ (CI artifacts).
//
// The asset-register workflow (upload, validation, submission, examination, acceptance, register
// pages and maps) runs on the demo's patrimonio flows; the server has no map tile URL
// (PUSH_TILE_URL empty), so no request leaves the machine and the markers must render alone.
//
// Run: PUSH_BIN=target/debug/push node --test tests-node/browser.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const radice = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = resolve(radice, process.env.PUSH_BIN ?? 'target/debug/push');
const cartellaFoto = join(radice, 'target', 'screenshots');
mkdirSync(cartellaFoto, { recursive: true });

// axe-core (tests-node/package.json) checks every page the tests visit, at desktop and phone width.
const sorgenteAxe = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const LARGHEZZE = [1280, 390];

let server, base, browser, cartellaFlussi, fabbricatoOstile;
// An address that would run a script if any page or map label treated it as HTML.
const INDIRIZZO_OSTILE = '<img src=x onerror=alert(1)>';

function portaLibera() {
  return new Promise((ok, ko) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); });
    s.on('error', ko);
  });
}

async function attendi(url, ms = 30000) {
  const fine = Date.now() + ms;
  while (Date.now() < fine) {
    try { if ((await fetch(url)).ok) return; } catch { /* not yet */ }
    await new Promise(r => setTimeout(r, 200));
  }
  throw new Error(`il server non risponde: ${url}`);
}

before(async () => {
  const porta = await portaLibera();
  const dati = mkdtempSync(join(tmpdir(), 'push-browser-'));
  base = `http://127.0.0.1:${porta}`;
  server = spawn(bin, ['serve', '--demo', '--listen', `127.0.0.1:${porta}`, '--data-dir', dati], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: (() => { const e = { ...process.env, PUSH_LOG: 'warn,sqlx=error', PUSH_TILE_URL: '' }; delete e.DATABASE_URL; return e; })(),
  });
  // The flow the referent uploads: a register of Andria that differs from the demo's accepted one.
  cartellaFlussi = mkdtempSync(join(tmpdir(), 'push-flussi-'));
  execFileSync(bin, ['demo', 'genera', '--dominio', 'patrimonio', '--ente', '110001', '--unita', '700', '--output', join(cartellaFlussi, 'andria.zip')], { stdio: 'ignore' });
  // A hostile address on the first building: it must reach every page and the map as text.
  execFileSync('unzip', ['-q', '-o', 'andria.zip', 'fabbricati.csv'], { cwd: cartellaFlussi });
  const fabbricati = readFileSync(join(cartellaFlussi, 'fabbricati.csv'), 'utf8').split('\n');
  const campi = fabbricati[0].split(',');
  const riga = fabbricati[1].split(',');
  riga[campi.indexOf('indirizzo')] = INDIRIZZO_OSTILE;
  fabbricatoOstile = riga[campi.indexOf('codice_fabbricato')];
  fabbricati[1] = riga.join(',');
  writeFileSync(join(cartellaFlussi, 'fabbricati.csv'), fabbricati.join('\n'));
  execFileSync('zip', ['-q', 'andria.zip', 'fabbricati.csv'], { cwd: cartellaFlussi });
  // The demo loads and accepts the patrimonio flows of Andria and three ARCA: slow in a debug build.
  await attendi(`${base}/healthz`, 180000);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
});

async function pagina({ js = true } = {}) {
  const ctx = await browser.newContext({ javaScriptEnabled: js, viewport: { width: 1280, height: 900 }, locale: 'it-IT' });
  const p = await ctx.newPage();
  const errori = [];
  // Console errors include Content-Security-Policy violations and script failures.
  // ("Failed to load resource" is Chromium's note on any 4xx page, e.g. a form with errors.)
  p.on('console', m => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errori.push(`console: ${m.text()}`); });
  p.on('pageerror', e => errori.push(`script: ${e.message}`));
  p.on('response', r => { if (r.status() >= 500) errori.push(`${r.status()} ${r.url()}`); });
  // Requests aborted by a navigation (e.g. the favicon while a form posts) are not failures.
  p.on('requestfailed', r => { if (r.failure()?.errorText !== 'net::ERR_ABORTED') errori.push(`fallita ${r.url()} ${r.failure()?.errorText}`); });
  // Every document loaded must be checked by axe before the test ends (see fine()).
  const stato = { visitate: new Set(), controllate: new Set(), errori, js };
  p.on('load', () => stato.visitate.add(p.url()));
  statiPagine.set(p, stato);
  return { ctx, p, errori };
}
const statiPagine = new WeakMap();

// A new width, once Bootstrap Italia's transitions (menu colours, panel) have finished.
async function ridimensiona(p, larghezza, altezza = 900) {
  await p.setViewportSize({ width: larghezza, height: altezza });
  await p.waitForTimeout(400);
}

// axe-core on the page as it is now, at each width: serious and critical violations are errors.
// The script is evaluated through the DevTools protocol, so the page's CSP does not block it.
// A page whose JavaScript is disabled cannot run it: its document is shown, as it is, by a
// JavaScript-enabled page of the same address whose own scripts are blocked (same rendering).
async function accessibilita(p) {
  const stato = statiPagine.get(p);
  const url = p.url();
  if (stato.controllate.has(url)) return;
  let controllo = p, ctxControllo = null;
  if (!stato.js) {
    // What <noscript> holds applies when scripts are off: keep it, without the wrapper.
    const documento = (await p.content()).replace(/<\/?noscript>/g, '');
    ctxControllo = await browser.newContext({ viewport: p.viewportSize(), locale: 'it-IT' });
    controllo = await ctxControllo.newPage();
    await controllo.route('**/*', r => {
      if (r.request().url() === url) return r.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: documento });
      if (r.request().resourceType() === 'script') return r.abort();
      return r.continue();
    });
    await controllo.goto(url);
  }
  const prima = controllo.viewportSize();
  for (const larghezza of LARGHEZZE) {
    await ridimensiona(controllo, larghezza);
    const violazioni = await controllo.evaluate(async sorgente => {
      if (!window.axe) (0, eval)(sorgente);
      const r = await window.axe.run(document, { resultTypes: ['violations'] });
      return r.violations
        .filter(v => v.impact === 'serious' || v.impact === 'critical')
        .map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')}`);
    }, sorgenteAxe);
    for (const v of violazioni) stato.errori.push(`axe ${larghezza}px ${new URL(url).pathname}: ${v}`);
  }
  await controllo.setViewportSize(prima);
  await ctxControllo?.close();
  stato.controllate.add(url);
}

// The whole page, or (intera: false) what fits in the window, for pages many screens long; at
// desktop width and at 390 px (name-390.png). The page is checked by axe too.
async function foto(p, nome, { intera = true } = {}) {
  await p.screenshot({ path: join(cartellaFoto, `${nome}.png`), fullPage: intera });
  const prima = p.viewportSize();
  await ridimensiona(p, 390, 844);
  await p.screenshot({ path: join(cartellaFoto, `${nome}-390.png`), fullPage: intera });
  await ridimensiona(p, prima.width, prima.height);
  await accessibilita(p);
}

// End of a test's browser: every page it loaded went through axe, and nothing went wrong.
async function fine({ ctx, p, errori }) {
  const stato = statiPagine.get(p);
  const mancanti = [...stato.visitate].filter(u => !stato.controllate.has(u));
  assert.deepEqual(mancanti, [], 'pagine visitate non controllate da axe');
  assert.deepEqual(errori, []);
  await ctx.close();
}

async function accediCome(p, testoOpzione) {
  await p.goto(`${base}/accesso`);
  await accessibilita(p);
  const opzione = p.locator('#cf option', { hasText: testoOpzione }).first();
  const valore = await opzione.getAttribute('value');
  assert.ok(valore, `nessuna persona «${testoOpzione}»`);
  await p.selectOption('#cf', valore);
  await Promise.all([p.waitForURL(`${base}/area`), p.click('button:has-text("Entra come questa persona")')]);
  await accessibilita(p);
}

test('home, registro e accesso: pagine pubbliche', async () => {
  const { ctx, p, errori } = await pagina();
  await p.goto(base);
  assert.equal(await p.getAttribute('html', 'lang'), 'it');
  assert.match(await p.locator('h1').innerText(), /Puglia Social Housing/);
  assert.ok(await p.locator('.push-banner-sviluppo').isVisible(), 'banner di sviluppo');
  // Fonts and styles are served locally (nothing from the network).
  assert.equal(await p.evaluate(() => getComputedStyle(document.body).fontFamily.includes('Titillium')), true);
  // Keyboard: the first Tab reaches the skip link.
  await p.keyboard.press('Tab');
  assert.equal(await p.evaluate(() => document.activeElement?.textContent?.trim()), 'Vai al contenuto principale');
  await foto(p, '01-home');

  await p.goto(`${base}/enti?provincia=LE&registrato=si`);
  const righe = await p.locator('tbody tr').count();
  assert.ok(righe >= 2, `enti registrati in provincia di Lecce: ${righe}`);
  await foto(p, '02-enti-lecce-registrati');
  await p.goto(`${base}/enti`);
  await foto(p, '03-enti');
  await p.goto(`${base}/accesso`);
  await foto(p, '04-accesso');
  await p.goto(`${base}/enti/110001`);
  await foto(p, '05-ente-andria');
  await fine({ ctx, p, errori });
});

// The header on a 390 px phone: it does not cover the page's title, the menu is behind Bootstrap
// Italia's menu button (a side panel, closed with Escape) and readable once logged in; without
// JavaScript the menu is shown in place instead.
test('intestazione e menu su un telefono, con e senza JavaScript', async () => {
  for (const js of [true, false]) {
    const b = await pagina({ js });
    const { p } = b;
    await ridimensiona(p, 390, 844);
    await accediComeTutte(p, 'Istruttore regionale');
    const titolo = await p.locator('main h1').boundingBox();
    const sopra = await p.evaluate(([x, y]) => document.elementFromPoint(x, y)?.closest('h1') !== null, [titolo.x + 10, titolo.y + titolo.height / 2]);
    assert.ok(sopra, `il titolo è visibile, non coperto (js: ${js})`);
    const voce = p.locator('#menu-principale a[href="/area/audit"]');
    const pulsante = p.locator('header button[aria-controls="menu-principale"]');
    if (js) {
      assert.ok(await pulsante.isVisible(), 'pulsante del menu');
      assert.equal(await voce.isVisible(), false, 'menu chiuso');
      await pulsante.click();
      await voce.waitFor({ state: 'visible' });
      await p.waitForTimeout(500); // the panel slides in; clicks during the slide are ignored
      assert.equal(await pulsante.getAttribute('aria-expanded'), 'true');
      await p.screenshot({ path: join(cartellaFoto, '00-menu-telefono-390.png') });
      await p.click('#menu-principale button.close-menu');
      await voce.waitFor({ state: 'hidden' });
    } else {
      assert.equal(await pulsante.isVisible(), false, 'senza JavaScript il pulsante non serve');
      assert.ok(await voce.isVisible(), 'senza JavaScript il menu è aperto');
      await p.screenshot({ path: join(cartellaFoto, '00-menu-telefono-senza-js-390.png') });
    }
    // Readable: the menu's text is not the colour of what is behind it (axe checks the ratio).
    const [colore, sfondo] = await voce.evaluate(a => {
      let e = a, bg = 'rgba(0, 0, 0, 0)';
      while (e && (bg === 'rgba(0, 0, 0, 0)' || bg === 'transparent')) { bg = getComputedStyle(e).backgroundColor; e = e.parentElement; }
      return [getComputedStyle(a).color, bg];
    });
    assert.notEqual(colore, sfondo, 'testo del menu diverso dallo sfondo');
    await fine(b);
  }
});

// Before the registration test below, which registers a fourteenth entity.
test('monitoraggio: cruscotto di marzo 2018, comunicato, raccolte e solleciti', async () => {
  const { ctx, p, errori } = await pagina();
  await accediComeTutte(p, 'Amministratore regionale');
  await p.goto(`${base}/area/monitoraggio`);
  // The notice's figures.
  assert.equal(await p.locator('#cifra-registrati').innerText(), '13');
  assert.equal(await p.locator('#cifra-pilota').innerText(), '11 su 14');
  assert.equal(await p.locator('#cifra-non-pilota').innerText(), '2');
  assert.match(await p.locator('#pilota-non-registrati').innerText(), /Foggia.*Lecce.*Taranto/);
  await foto(p, '30-monitoraggio', { intera: false });
  // Filtered: the pilots not registered.
  await p.goto(`${base}/area/monitoraggio?pilota=si&registrato=no`);
  assert.equal(await p.locator('main table tbody tr').count(), 3);
  await foto(p, '31-monitoraggio-filtrato');
  // The paragraph, one click away.
  await Promise.all([p.waitForURL(/\/area\/monitoraggio\/comunicato$/), p.click('a:has-text("Scrivi il comunicato")')]);
  assert.match(await p.locator('#testo-comunicato').inputValue(), /13 enti: 11 dei 14 enti pilota/);
  await foto(p, '32-comunicato');
  // Campaigns: the list with the rates, then the late one with its chart.
  await p.goto(`${base}/area/raccolte`);
  assert.match(await p.locator('main').innerText(), /35,7 %/);
  await foto(p, '33-raccolte');
  await Promise.all([p.waitForURL(/\/area\/raccolte\/\d+$/), p.click('a:has-text("Contabilità storica")')]);
  // Carovigno's declaration and the four accounting flows of the demo (issue 9).
  assert.equal(await p.locator('#tasso').innerText(), '45,5 %');
  assert.equal(await p.locator('#in-ritardo').innerText(), '10');
  assert.ok(await p.locator('svg.push-grafico title').count() === 1, 'grafico con titolo');
  await foto(p, '34-raccolta');
  // Reminders: the three unregistered pilots were reminded at their PEC address.
  await p.goto(`${base}/area/solleciti?motivo=in_ritardo`);
  assert.match(await p.locator('#registro-solleciti ~ div table, section:has(#registro-solleciti) table').first().innerText(), /Foggia/);
  await foto(p, '35-solleciti', { intera: false });
  await fine({ ctx, p, errori });
});

// News: hostile Markdown and HTML written by the Region reach the browser neutralised (no
// script runs, none is in the DOM), with its attachment and today's banner; the outbox and the
// development mailbox, where every message the demo sent can be read.

test('registrazione di un ente approvata da capo a fondo, senza JavaScript', async () => {
  // The requester: a demo person without any role.
  const rich = await pagina({ js: false });
  await accediCome(rich.p, 'senza ruolo');
  await rich.p.goto(`${base}/area/registrazione`);
  await rich.p.selectOption('#ente', '073027');
  await rich.p.fill('#nome', 'Giulia Esempio');
  await rich.p.fill('#pec', 'non-una-pec');
  await rich.p.fill('#telefono', '+39 099 0000000');
  await rich.p.fill('#email', 'ufficio@taranto.push-demo.invalid');
  await rich.p.click('button:has-text("Invia la richiesta")');
  assert.match(await rich.p.locator('#errori').innerText(), /non è un indirizzo di posta valido/);
  assert.equal(await rich.p.getAttribute('#pec', 'aria-invalid'), 'true');
  // Focus is on the error summary (no JavaScript needed).
  assert.equal(await rich.p.evaluate(() => document.activeElement?.id), 'errori');
  await foto(rich.p, '06-registrazione-errore');
  await rich.p.fill('#pec', 'protocollo@pec.taranto.push-demo.invalid');
  await Promise.all([rich.p.waitForURL(/\/area\?esito=registrazione_inviata/), rich.p.click('button:has-text("Invia la richiesta")')]);
  assert.match(await rich.p.locator('main').innerText(), /In attesa di decisione/);
  await foto(rich.p, '07-registrazione-inviata');

  // The Region administrator approves.
  const reg = await pagina({ js: false });
  await accediCome(reg.p, 'Amministratore regionale');
  await reg.p.goto(`${base}/area/registrazioni`);
  await foto(reg.p, '08-registrazioni-in-attesa');
  await reg.p.click('a:has-text("Esamina la richiesta di Comune di Taranto")');
  assert.match(await reg.p.locator('h1').innerText(), /Taranto/);
  await foto(reg.p, '09-registrazione-dettaglio');
  await Promise.all([reg.p.waitForURL(/esito=approvata/), reg.p.click('button:has-text("Approva la registrazione")')]);
  await foto(reg.p, '10-registrazione-approvata');
  await reg.p.goto(`${base}/area/audit?ente=073027`);
  assert.match(await reg.p.locator('table').innerText(), /registrazione\.approvata/);
  await foto(reg.p, '11-audit');
  // The text filters are drawn as fields, and authors are people with their names.
  for (const campo of ['#ente', '#attore']) {
    const bordo = await reg.p.locator(campo).evaluate(e => getComputedStyle(e).borderBottomStyle + ' ' + getComputedStyle(e).borderBottomWidth);
    assert.ok(!bordo.startsWith('none') && !bordo.endsWith(' 0px'), `${campo} visibile: ${bordo}`);
  }
  assert.match(await reg.p.locator('main table tbody tr').first().innerText(), /[A-Za-zà-ù]+ [A-Za-zà-ù]+ \([A-Z0-9]{16}\)/);
  // On a phone the table scrolls sideways, with the keyboard too: its container takes focus.
  await reg.p.setViewportSize({ width: 390, height: 844 });
  const scorrevole = reg.p.locator('main .table-responsive');
  assert.ok(await scorrevole.evaluate(e => e.scrollWidth > e.clientWidth), 'la tabella è più larga dello schermo');
  assert.equal(await scorrevole.getAttribute('tabindex'), '0', 'raggiungibile con Tab');
  await scorrevole.focus();
  assert.equal(await reg.p.evaluate(() => document.activeElement?.classList.contains('table-responsive')), true);
  for (let i = 0; i < 5; i++) await reg.p.keyboard.press('ArrowRight');
  await reg.p.waitForTimeout(500); // smooth scrolling
  assert.ok(await scorrevole.evaluate(e => e.scrollLeft > 0), 'scorre con le frecce');
  await reg.p.setViewportSize({ width: 1280, height: 900 });

  // The requester is now legal representative and accredits a referent.
  await rich.p.goto(`${base}/area`);
  assert.match(await rich.p.locator('main').innerText(), /legale rappresentante/);
  await rich.p.goto(`${base}/area/enti/073027/referenti`);
  await accessibilita(rich.p);
  await rich.p.fill('#codice_fiscale', 'RSSMRA80A01H501U');
  await rich.p.fill('#nome', 'Mario Esempio');
  await rich.p.fill('#email', 'mario@taranto.push-demo.invalid');
  await rich.p.click('label[for="area-PATRIMONIO"]');
  assert.equal(await rich.p.isChecked('#area-PATRIMONIO'), true);
  await Promise.all([rich.p.waitForURL(/esito=accreditato/), rich.p.click('button:has-text("Accredita")')]);
  assert.match(await rich.p.locator('table').innerText(), /Mario Esempio/);
  await foto(rich.p, '12-referenti');
  await fine(rich);
  await fine(reg);
});

test('documentazione e validatore pubblico, senza JavaScript', async () => {
  const { ctx, p, errori } = await pagina({ js: false });
  await p.goto(`${base}/documentazione/patrimonio`);
  assert.match(await p.locator('h1').innerText(), /Banca dati patrimoniale/);
  assert.ok(await p.locator('#tabella-unita').isVisible());
  await foto(p, '13-documentazione-patrimonio');
  // A realistic flow made by the generator, then one with a mistake.
  const cartella = mkdtempSync(join(tmpdir(), 'push-validatore-'));
  const valido = join(cartella, 'patrimonio.zip');
  execFileSync(bin, ['demo', 'genera', '--dominio', 'patrimonio', '--unita', '300', '--ente', '110001', '--output', valido], { stdio: 'ignore' });
  await p.goto(`${base}/documentazione/validatore`);
  await foto(p, '14-validatore');
  await p.setInputFiles('#file', valido);
  await p.fill('#ente', '110001');
  await Promise.all([p.waitForLoadState(), p.click('button:has-text("Controlla il file")')]);
  assert.match(await p.locator('main').innerText(), /è valido/);
  await foto(p, '15-validatore-valido');
  const errato = join(cartella, 'errato.csv');
  writeFileSync(errato, 'codice_programma;denominazione;tipo;strumento;fonte;atto;data_atto;importo_programma\nP1;Programma di prova;SEMPLICE;PRU;UE;DGR 1/2010;31/02/2010;1000,505\n');
  await p.goto(`${base}/documentazione/validatore`);
  await p.selectOption('#dominio', 'programmi');
  await p.setInputFiles('#file', errato);
  await Promise.all([p.waitForLoadState(), p.click('button:has-text("Controlla il file")')]);
  const testo = await p.locator('main').innerText();
  assert.match(testo, /non è valido/);
  assert.match(testo, /data che non esiste/);
  await foto(p, '16-validatore-errori');
  await fine({ ctx, p, errori });
});

// Shared by the asset-register tests below (they run in order).
let idFlusso;

// The dev login's <option> whose text contains every word.
async function accediComeTutte(p, ...parole) {
  const re = new RegExp(parole.map(x => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*'), 'i');
  await accediCome(p, re);
}

// Markers of a Leaflet map (#mappa) are drawn: circles on a canvas (preferCanvas), SVG paths or
// icons. Without a tile URL the points are all there is to see.
async function attendiPunti(p) {
  await p.waitForFunction(() => {
    const m = document.getElementById('mappa');
    if (!m || !m.classList.contains('leaflet-container')) return false;
    if (m.querySelector('.leaflet-marker-icon, path.leaflet-interactive')) return true;
    const c = m.querySelector('.leaflet-overlay-pane canvas');
    if (!c || !c.width || !c.height) return false;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true;
    return false;
  }, null, { timeout: 10000 });
}

async function esci(p) {
  await Promise.all([p.waitForURL(u => !u.pathname.startsWith('/area')), p.click('header button:has-text("Esci")')]);
  assert.ok(await p.locator('header a[href="/accesso"]').isVisible(), 'dopo l\'uscita il collegamento di accesso');
  await accessibilita(p);
}

test('flusso patrimonio: caricamento, validazione e invio alla Regione, senza JavaScript', async () => {
  const { ctx, p, errori } = await pagina({ js: false });
  await accediComeTutte(p, 'Referente', 'patrimonio', 'Andria');
  await p.goto(`${base}/area/flussi`);
  assert.match(await p.locator('#titolo-carica').innerText(), /Carica il flusso/);
  await foto(p, '20-flussi-caricamento');
  await p.setInputFiles('#file', join(cartellaFlussi, 'andria.zip'));
  await Promise.all([p.waitForURL(/\/area\/flussi\/\d+(\?|$)/), p.click('button:has-text("Carica il flusso")')]);
  idFlusso = Number(new URL(p.url()).pathname.split('/').pop());
  assert.ok(idFlusso > 0, p.url());
  // The page refreshes itself every 2 s while the file is being validated.
  await p.locator('#titolo-rapporto').waitFor({ timeout: 180000 });
  assert.match(await p.locator('#titolo-rapporto').innerText(), /Rapporto di validazione/);
  await foto(p, '21-flusso-validato');
  assert.match(await p.locator('#stato-flusso').innerText(), /Valido/);
  assert.match(await p.locator('#esito-validazione').innerText(), /è valido/);
  if (await p.locator('#conferma_avvisi').count()) await p.check('#conferma_avvisi');
  await Promise.all([p.waitForURL(new RegExp(`/area/flussi/${idFlusso}/ricevuta(\\?|$)`)), p.click('button:has-text("Invia il flusso alla Regione")')]);
  const protocollo = await p.locator('#protocollo').innerText();
  assert.match(protocollo, /^\d{4}\/\d{6}$/);
  assert.match(await p.locator('main').innerText(), /Comune di Andria/);
  await foto(p, '22-flusso-ricevuta');
  await p.goto(`${base}/area/flussi/${idFlusso}`);
  assert.match(await p.locator('#stato-flusso').innerText(), /Inviato/);
  await accessibilita(p);
  await esci(p);
  await fine({ ctx, p, errori });
});

test('flusso patrimonio: esame e accettazione della Regione, senza JavaScript', async () => {
  assert.ok(idFlusso, 'il flusso del test precedente');
  const { ctx, p, errori } = await pagina({ js: false });
  await accediComeTutte(p, 'Istruttore regionale');
  await p.goto(`${base}/area/esame`);
  const riga = p.locator('tbody tr', { has: p.locator(`a[href="/area/flussi/${idFlusso}"]`) });
  assert.equal(await riga.count(), 1, 'il flusso è da esaminare');
  assert.match(await riga.innerText(), /Andria/);
  await foto(p, '23-esame-elenco');
  await Promise.all([p.waitForURL(new RegExp(`/area/flussi/${idFlusso}(\\?|$)`)), riga.locator('a').first().click()]);
  const tabella = p.locator('#tabella-differenze');
  assert.ok(await tabella.isVisible(), 'tabella delle differenze');
  await foto(p, '24-esame-flusso');
  // The count of changed units, or the first non-zero count.
  let collegamento = tabella.locator('a[href*="tabella=unita"][href*="tipo=modificato"]');
  // Counts are written the Italian way (1.234).
  const numero = t => Number(t.replace(/\./g, ''));
  if (await collegamento.count() === 0 || numero(await collegamento.innerText()) === 0) {
    collegamento = tabella.locator('a').filter({ hasText: /^[1-9][\d.]*$/ }).first();
  }
  const testoQuanti = await collegamento.innerText();
  assert.ok(numero(testoQuanti) > 0, 'il flusso ha differenze');
  await Promise.all([p.waitForURL(/\/differenze\?/), collegamento.click()]);
  assert.ok((await p.locator('#elenco-differenze caption').innerText()).startsWith(`${testoQuanti} record`));
  assert.ok(await p.locator('#elenco-differenze tbody tr').count() > 0);
  await foto(p, '25-differenze', { intera: false });
  await p.goBack();
  // Accepting goes through a confirmation page that shows the counts.
  await Promise.all([p.waitForURL(new RegExp(`/area/flussi/${idFlusso}/accettazione`)), p.click('a:has-text("Accetta il flusso")')]);
  assert.ok(await p.locator('#riepilogo-accettazione').isVisible(), 'riepilogo delle modifiche');
  await foto(p, '25b-conferma-accettazione');
  await p.click('label[for="conferma"]');
  assert.equal(await p.isChecked('#conferma'), true);
  await Promise.all([p.waitForURL(/esito=/), p.click('main button:has-text("Accetta il flusso")')]);
  assert.match(await p.locator('#stato-flusso').innerText(), /Accettato/);
  assert.ok(await p.locator('.alert-success').count() > 0, 'messaggio di esito');
  await foto(p, '26-flusso-accettato');
  await fine({ ctx, p, errori });
});

test('registro del patrimonio: elenchi, schede, mappa senza sfondo e registro alla data', async () => {
  assert.ok(idFlusso, 'il flusso dei test precedenti');
  const { ctx, p, errori } = await pagina();
  // No tile URL: nothing may be requested outside the server.
  const esterne = [];
  p.on('request', r => { if (!r.url().startsWith(base) && !r.url().startsWith('data:')) esterne.push(r.url()); });
  await accediComeTutte(p, 'Istruttore regionale');
  await p.goto(`${base}/area/registro/fabbricati?ente=110001`);
  const righe = p.locator('main table tbody tr');
  assert.ok(await righe.count() > 1, 'fabbricati di Andria');
  await foto(p, '27-registro-fabbricati-andria');

  await Promise.all([p.waitForURL(/\/area\/registro\/fabbricati\/.+/), righe.first().locator('th a').click()]);
  assert.match(await p.locator('h1').innerText(), /^Fabbricato /);
  const mappa = p.locator('#mappa');
  assert.ok(await mappa.isVisible(), 'la mappa');
  await attendiPunti(p);
  assert.equal(await mappa.locator('.leaflet-tile-pane img').count(), 0, 'nessuna tessera');
  await foto(p, '28-registro-fabbricato');

  const unita = p.locator('main table').filter({ has: p.locator('caption', { hasText: /^Unità immobiliari di / }) }).locator('tbody th a').first();
  await Promise.all([p.waitForURL(/\/area\/registro\/unita\/.+/), unita.click()]);
  assert.match(await p.locator('h1').innerText(), /^Unità immobiliare /);
  await foto(p, '29-registro-unita');

  // The hostile address: literal text in the page's heading area and in the map's tooltip.
  await p.goto(`${base}/area/registro/fabbricati/110001/${fabbricatoOstile}`);
  assert.ok((await p.locator('main').innerText()).includes(INDIRIZZO_OSTILE), 'indirizzo mostrato come testo');
  await attendiPunti(p);
  const riquadro = await mappa.boundingBox();
  // The only building is at the map's centre: hovering it opens its tooltip.
  await p.mouse.move(riquadro.x + riquadro.width / 2, riquadro.y + riquadro.height / 2);
  const suggerimento = p.locator('#mappa .leaflet-tooltip');
  await suggerimento.waitFor({ timeout: 5000 });
  assert.ok((await suggerimento.textContent()).includes(INDIRIZZO_OSTILE), 'etichetta come testo');
  assert.equal(await p.locator('main img[src="x"]').count(), 0, 'nessun elemento creato dai dati');
  await foto(p, '28b-registro-indirizzo-ostile', { intera: false });

  await p.goto(`${base}/area/registro/unita?ente=110001&alla_data=2018-03-01`);
  assert.match(await p.locator('main .alert-info').innerText(), /1 marzo 2018|01\/03\/2018/);
  assert.ok(await p.locator('main table tbody tr').count() > 1, 'unità di Andria alla data');
  await foto(p, '30-registro-unita-alla-data');

  await p.goto(`${base}/area/registro/mappa?ente=110001`);
  await attendiPunti(p);
  assert.equal(await p.locator('#mappa .leaflet-tile-pane img').count(), 0, 'nessuna tessera');
  await foto(p, '31-registro-mappa-andria');
  assert.deepEqual(esterne, []);
  await fine({ ctx, p, errori });
});

test('comunicazioni ostili neutralizzate, banner, posta in uscita e casella di sviluppo', async () => {
  const { ctx, p, errori } = await pagina();
  const dialoghi = [];
  p.on('dialog', d => { dialoghi.push(d.message()); d.dismiss().catch(() => {}); });
  await accediComeTutte(p, 'Amministratore regionale');
  await p.goto(`${base}/area/comunicazioni`);
  await foto(p, '40-comunicazioni-gestione');
  const ostile = [
    'Si comunica l\'avvio della **raccolta 2026** dei flussi del patrimonio.',
    '',
    '<script>window.__xss = 1; alert("xss")</script>',
    '',
    '<img src=x onerror="window.__xss = 2; alert(2)">',
    '',
    '[scarica il modulo](javascript:window.__xss=3) e <a href="https://www.regione.puglia.it" onclick="window.__xss=4">sito della Regione</a>',
    '',
    '<iframe src="javascript:alert(5)"></iframe><svg onload="window.__xss=5"></svg><style>body{display:none}</style>',
    '',
    '- scadenza: 31/03/2026',
    '- referente: Sezione Politiche Abitative',
  ].join('\n');
  const oggi = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Rome' }).format(new Date());
  await p.fill('#titolo', 'Avvio della raccolta 2026 <script>alert("titolo")</script>');
  await p.fill('#corpo', ostile);
  await p.fill('#banner_dal', oggi);
  await p.setInputFiles('#allegati', { name: 'nota.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4 nota') });
  await Promise.all([p.waitForURL(/\/comunicazioni\/\d+\?esito=pubblicata$/), p.click('button:has-text("Pubblica")')]);
  assert.equal(await p.evaluate(() => window.__xss), undefined, 'nessuno script eseguito');
  assert.equal(await p.locator('.push-corpo-notizia script, .push-corpo-notizia iframe, .push-corpo-notizia img, .push-corpo-notizia svg, .push-corpo-notizia style').count(), 0);
  assert.equal(await p.locator('.push-corpo-notizia [onclick], .push-corpo-notizia a[href^="javascript"]').count(), 0);
  assert.match(await p.locator('h1').innerText(), /<script>alert\("titolo"\)<\/script>/, 'il titolo resta testo');
  assert.equal(await p.locator('.push-corpo-notizia strong').innerText(), 'raccolta 2026');
  assert.ok(await p.locator('a:has-text("nota.pdf")').isVisible(), 'allegato');
  await foto(p, '41-comunicazione');
  // The banner and the news on the home page, for the public too.
  await p.goto(`${base}/area`);
  await esci(p);
  await p.goto(base);
  assert.ok(await p.locator('.push-banner-comunicazione').isVisible(), 'banner');
  assert.match(await p.locator('#notizie').locator('..').innerText(), /Avvio della raccolta 2026/);
  assert.equal(await p.evaluate(() => window.__xss), undefined);
  await foto(p, '42-home-comunicazioni');
  // The outbox and the development mailbox.
  await accediComeTutte(p, 'Amministratore regionale');
  await p.goto(`${base}/area/posta`);
  await foto(p, '43-posta-in-uscita', { intera: false });
  await p.goto(`${base}/sviluppo/posta`);
  const righe = await p.locator('main table tbody tr a').count();
  assert.ok(righe > 0, 'la casella di sviluppo mostra i messaggi della dimostrazione');
  await foto(p, '44-casella-sviluppo', { intera: false });
  await Promise.all([p.waitForURL(/\/sviluppo\/posta\/\d+$/), p.locator('main table tbody tr a').first().click()]);
  assert.ok((await p.locator('pre.push-messaggio').innerText()).length > 20);
  await foto(p, '45-messaggio');
  assert.deepEqual(dialoghi, []);
  await fine({ ctx, p, errori });
});

test('programmi e interventi: un cantiere fermo, il suo grafico e i suoi fabbricati', async () => {
  const { ctx, p, errori } = await pagina();
  await accediComeTutte(p, 'Amministratore regionale');
  await p.goto(`${base}/area/programmi`);
  assert.match(await p.locator('#tabella-programmi').innerText(), /PNRR/);
  await foto(p, '40-programmi');
  // A stalled site among the works in progress.
  await p.goto(`${base}/area/interventi?stato=LAVORI_IN_CORSO`);
  const fermo = p.locator('#tabella-interventi tbody tr', { has: p.locator('.badge:has-text("Fermo")') }).first();
  assert.ok(await fermo.count() === 1, 'un cantiere fermo');
  await foto(p, '41-interventi-in-corso', { intera: false });
  await Promise.all([p.waitForURL(/\/area\/interventi\/[^/]+\/[A-Z0-9]+$/), fermo.locator('th a').click()]);
  assert.match(await p.locator('#avviso-fermo').innerText(), /Cantiere fermo/);
  // The timeline: an accessible SVG with its title, description and data table.
  const svg = p.locator('figure.grafico svg[role="img"]');
  assert.equal(await svg.count(), 1);
  assert.equal(await svg.getAttribute('aria-labelledby'), 'cronologia-titolo cronologia-desc');
  assert.match(await p.locator('#cronologia-titolo').textContent(), /Andamento dell'intervento/);
  assert.match(await p.locator('#cronologia-desc').textContent(), /SAL/);
  assert.ok(await p.locator('figure.grafico table.grafico-dati tbody tr').count() > 0, 'dati del grafico');
  await p.locator('figure.grafico').screenshot({ path: join(cartellaFoto, '43-grafico-intervento.png') });
  await foto(p, '42-intervento-fermo');
  // Its buildings lead into the register.
  const fabbricato = p.locator('#elenco-fabbricati a').first();
  if (await fabbricato.count()) {
    await Promise.all([p.waitForURL(/\/area\/registro\/fabbricati\//), fabbricato.click()]);
    await accessibilita(p);
  }
  // The Region's conflicts, beside the cadastral ones.
  await p.goto(`${base}/area/conflitti`);
  assert.match(await p.locator('h1').innerText(), /Conflitti tra enti/);
  await foto(p, '44-conflitti');
  await fine({ ctx, p, errori });
});

test('cruscotto direzionale: grafici con i dati, elenchi dietro le cifre, data e mappa per occupazione', async () => {
  const { ctx, p, errori } = await pagina();
  // No tile URL: the map's points come from the server only.
  const esterne = [];
  p.on('request', r => { if (!r.url().startsWith(base) && !r.url().startsWith('data:')) esterne.push(r.url()); });
  await accediComeTutte(p, 'Amministratore regionale');
  await p.goto(`${base}/area/cruscotto`);
  assert.match(await p.locator('h1').innerText(), /Cruscotto direzionale/);
  // Every chart an accessible SVG with its title and the data table behind it.
  const grafici = p.locator('main figure.grafico');
  assert.ok(await grafici.count() >= 9, 'i grafici del cruscotto');
  assert.equal(await grafici.count(), await p.locator('main figure.grafico svg[role="img"]').count());
  assert.equal(await grafici.count(), await p.locator('main figure.grafico table.grafico-dati').count());
  assert.ok(Number((await p.locator('#tabella-sintesi tbody tr').nth(2).locator('td').innerText()).replace(/\./g, '')) > 0, 'unità della dimostrazione');
  assert.match(await p.locator('#tasso-sfitto').innerText(), /^\d+,\d\d %$/);
  // The map: buildings drawn (clusters or points) without any tile.
  await p.waitForFunction(() => {
    const m = document.getElementById('mappa-cruscotto');
    return m && m.classList.contains('leaflet-container') && m.querySelector('.leaflet-marker-icon, path.leaflet-interactive, .leaflet-overlay-pane canvas');
  }, null, { timeout: 20000 });
  assert.match(await p.locator('#mappa-cruscotto-stato').innerText(), /fabbricati sulla mappa/);
  assert.equal(await p.locator('#mappa-cruscotto .leaflet-tile-pane img').count(), 0, 'nessuna tessera');
  await foto(p, '45-cruscotto');
  await p.locator('#grafico-occupazione').screenshot({ path: join(cartellaFoto, '46-cruscotto-occupazione.png') });
  // A figure leads to the list behind it.
  await Promise.all([
    p.waitForURL(/\/area\/registro\/unita\?stato_occupazione=/),
    p.locator('#grafico-occupazione table tbody th a').first().click(),
  ]);
  assert.ok(await p.locator('main table tbody tr').count() > 0, 'unità di quello stato');
  await accessibilita(p);
  // As of a day (Italian format), with the same drill-down carrying the day.
  await p.goto(`${base}/area/cruscotto?al=01/03/2018`);
  assert.match(await p.locator('main > p').first().innerText(), /al 01\/03\/2018/);
  assert.ok(await p.locator('a[href*="alla_data=2018-03-01"]').count() > 0, 'elenchi alla stessa data');
  await foto(p, '47-cruscotto-alla-data', { intera: false });
  assert.deepEqual(esterne, []);
  await fine({ ctx, p, errori });
});

test('contabilità: un referente PROGRAMMI carica il flusso e legge il rapporto, senza JavaScript', async () => {
  execFileSync(bin, ['demo', 'genera', '--dominio', 'contabilita', '--ente', '110001', '--interventi', '25', '--seme', '77', '--output', join(cartellaFlussi, 'contabilita.zip')], { stdio: 'ignore' });
  const { ctx, p, errori } = await pagina({ js: false });
  await accediComeTutte(p, 'Referente', 'programmi', 'Andria');
  await p.goto(`${base}/area/flussi`);
  await accessibilita(p);
  await p.setInputFiles('#file', join(cartellaFlussi, 'contabilita.zip'));
  await Promise.all([p.waitForURL(/\/area\/flussi\/\d+(\?|$)/), p.click('button:has-text("Carica il flusso")')]);
  await p.locator('#titolo-rapporto').waitFor({ timeout: 180000 });
  assert.match(await p.locator('#stato-flusso').innerText(), /Valido/);
  await foto(p, '45-contabilita-validata');
  await fine({ ctx, p, errori });
});

// The public's figures without login: the public dashboard (charts with their data tables,
// suppressed cells marked) and the open-data page, at 1280 and 390 px through axe.
test('dati pubblici: cruscotto pubblico e dati aperti, senza accesso', async () => {
  const { ctx, p, errori } = await pagina();
  await p.goto(`${base}/dati`);
  assert.match(await p.locator('h1').innerText(), /Dati pubblici/);
  assert.ok(await p.locator('figure svg').count() >= 3, 'i grafici');
  assert.ok(await p.locator('figure table tbody tr').count() > 0, 'le tabelle dei dati');
  assert.match(await p.locator('main').innerText(), /Provincia di Bari/);
  await foto(p, '50-dati-pubblici');
  await p.goto(`${base}/opendata`);
  assert.match(await p.locator('h1').innerText(), /Dati aperti/);
  assert.ok(await p.locator('a[href$=".csv"]').count() >= 4, 'i CSV');
  await foto(p, '51-dati-aperti');
  await fine({ ctx, p, errori });
});
