// mmapd viewer: shows a file of any size by fetching only the byte ranges on screen.
//
// The screen is a window of rows starting at the byte offset `top`. Text rows are lines (a line
// longer than MAX_ROW bytes continues on the next rows, marked ↪); hex rows are 16 bytes. Rows
// are computed from cached 64 KiB blocks, fetched with Range and If-Match (so every block comes
// from the version of the file the page describes). Nothing depends on the file's size except
// the position bar, so a 10 GiB file opens as fast as a small one.
//
// Line numbers (docs/PAGES.md): from the start of the file they are counted as the person
// scrolls. A jump to a line asks the lines view (`?lines=N-N`) where line N starts; a jump to
// the end asks it for the last line's number (`?lines=-1`); a search hit brings its `line`. A
// jump to a bare byte offset does not know its line: the gutter shows byte offsets at once, while
// the page asks `/search` to count the newlines before it; when the count arrives the numbers
// appear (a file too big for the search budget keeps the offsets).
'use strict';

(() => {
  const M = window.Mmapd;
  const main = document.getElementById('viewer');
  if (!main) return;

  const BLOCK = 65536;
  const MAX_ROW = 2048; // bytes on one text row
  const LOOKBACK = 65536; // how far back a row's line start is looked for
  const HEX = 16; // bytes per hex row
  const CACHE_BLOCKS = 256; // 16 MiB of blocks at most
  const CONTEXT = 2; // rows shown above the target of a jump

  const fileURL = main.dataset.file;
  const searchURL = main.dataset.search;
  const viewURL = main.dataset.view;
  const size = Number(main.dataset.size);
  const etag = main.dataset.etag;
  const rowsElement = main.querySelector('.rows');
  const statusElement = main.querySelector('.status');
  const position = main.querySelector('.position');
  const hits = main.querySelector('.hits');
  const decoder = new TextDecoder('utf-8');

  class FileChanged extends Error {}
  class NoLinesView extends Error {}

  // ---- Bytes: 64 KiB blocks, fetched once, least recently used dropped ----------------------
  const blocks = new Map(); // index -> { promise, data }

  function loadBlock(index) {
    let entry = blocks.get(index);
    if (entry) {
      blocks.delete(index);
      blocks.set(index, entry);
      return entry.promise;
    }
    const start = index * BLOCK;
    const end = Math.min(size, start + BLOCK);
    entry = { data: null };
    entry.promise = fetch(M.withSigned(fileURL), { headers: { Range: `bytes=${start}-${end - 1}`, 'If-Match': etag } })
      .then(async (response) => {
        if (response.status === 412) throw new FileChanged('The file changed since this page was loaded.');
        if (response.status !== 206 && response.status !== 200) throw new Error(await M.describe(response));
        const body = new Uint8Array(await response.arrayBuffer());
        entry.data = response.status === 200 ? body.subarray(start, end) : body;
        return entry.data;
      });
    entry.promise.catch(() => blocks.delete(index));
    blocks.set(index, entry);
    while (blocks.size > CACHE_BLOCKS) blocks.delete(blocks.keys().next().value);
    return entry.promise;
  }

  /** Makes bytes [start, end) readable through byteAt/find/slice until the next ensure. */
  async function ensure(start, end) {
    start = Math.max(0, start);
    end = Math.min(size, end);
    if (end <= start) return;
    const loads = [];
    for (let index = Math.floor(start / BLOCK); index <= Math.floor((end - 1) / BLOCK); index++) loads.push(loadBlock(index));
    await Promise.all(loads);
  }

  function block(index) {
    const entry = blocks.get(index);
    if (!entry || !entry.data) throw new Error(`block ${index} is not loaded`);
    return entry.data;
  }

  function byteAt(at) {
    return block(Math.floor(at / BLOCK))[at % BLOCK];
  }

  /** The first newline in [from, to), or -1. */
  function findNewline(from, to) {
    for (let at = from; at < to;) {
      const index = Math.floor(at / BLOCK);
      const base = index * BLOCK;
      const found = block(index).subarray(0, Math.min(BLOCK, to - base)).indexOf(10, at - base);
      if (found >= 0) return base + found;
      at = base + BLOCK;
    }
    return -1;
  }

  /** The last newline in [from, to), or -1. */
  function findNewlineBackward(from, to) {
    for (let at = to - 1; at >= from;) {
      const index = Math.floor(at / BLOCK);
      const base = index * BLOCK;
      const found = block(index).lastIndexOf(10, at - base);
      if (found >= 0 && base + found >= from) return base + found;
      if (found >= 0) return -1;
      at = base - 1;
    }
    return -1;
  }

  function slice(start, end) {
    const out = new Uint8Array(end - start);
    for (let at = start; at < end;) {
      const index = Math.floor(at / BLOCK);
      const base = index * BLOCK;
      const piece = block(index).subarray(at - base, Math.min(BLOCK, end - base));
      out.set(piece, at - start);
      at += piece.length;
    }
    return out;
  }

  // ---- Text rows ----------------------------------------------------------------------------
  // A row shows bytes [start, end); the next row starts at `next` (end + 1 after a newline).

  /** Where a row of a long line ends: MAX_ROW bytes on, moved back off a UTF-8 continuation. */
  function cut(start) {
    let at = start + MAX_ROW;
    for (let back = 0; back < 3 && at > start + 1 && (byteAt(at) & 0xc0) === 0x80; back++) at--;
    return at;
  }

  async function rowAt(start) {
    if (start >= size) return null;
    const limit = Math.min(size, start + MAX_ROW + 1);
    await ensure(start, limit + 1);
    const newline = findNewline(start, limit);
    if (newline >= 0) return { start, end: newline, next: newline + 1, newline: true };
    if (limit === size) return { start, end: size, next: size, newline: false };
    const end = cut(start);
    return { start, end, next: end, newline: false };
  }

  /**
   * The row that holds byte `at` (a line of up to LOOKBACK bytes is cut into rows from its start,
   * so going back and forth gives the same rows; in a longer one the row starts at `at`).
   */
  async function rowStartFor(at) {
    const from = Math.max(0, at - LOOKBACK);
    await ensure(from, Math.min(size, at + MAX_ROW + 2));
    const newline = findNewlineBackward(from, at);
    let start;
    if (newline >= 0) start = newline + 1;
    else if (from === 0) start = 0;
    else return at;
    while (start < at && at - start >= MAX_ROW) {
      const end = cut(start);
      if (end > at) break;
      start = end;
    }
    return start;
  }

  /** The row that ends where the row at `start` begins; null at the start of the file. */
  async function rowBefore(start) {
    if (start <= 0) return null;
    await ensure(start - 1, start);
    const newline = byteAt(start - 1) === 10;
    const end = newline ? start - 1 : start;
    const rowStart = end === 0 ? 0 : await rowStartFor(end - (newline ? 0 : 1));
    return { start: rowStart, end, next: start, newline };
  }

  async function isLineStart(at) {
    if (at === 0) return true;
    await ensure(at - 1, at);
    return byteAt(at - 1) === 10;
  }

  // ---- State --------------------------------------------------------------------------------
  const state = {
    mode: 'text',
    top: 0, // the first row's byte offset
    lineBase: 1, // the line number at the last jump's anchor, or null while unknown
    lineDelta: 0, // lines between that anchor and `top`
    epoch: 0, // bumped by every jump, so a late line count for an old anchor is dropped
    highlight: null, // [start, end) of a search match
    targetLine: null, // the line a jump went to (marked)
    rows: [],
  };
  let rowHeight = 0;
  let firstScreen = true;
  let draws = 0; // shown as data-draws: tests wait for a new screen by it

  function topLine() {
    return state.lineBase === null ? null : state.lineBase + state.lineDelta;
  }

  function viewportRows() {
    if (!rowHeight) {
      const probe = document.createElement('span');
      probe.className = 'row';
      probe.textContent = '0';
      rowsElement.append(probe);
      rowHeight = probe.getBoundingClientRect().height || 16;
      probe.remove();
    }
    return Math.max(1, Math.floor(rowsElement.clientHeight / rowHeight));
  }

  async function screenRows(count) {
    if (state.mode === 'hex') {
      const rows = [];
      for (let start = state.top; start < size && rows.length < count; start += HEX) {
        rows.push({ start, end: Math.min(size, start + HEX) });
      }
      await ensure(state.top, Math.min(size, state.top + count * HEX));
      return rows;
    }
    const rows = [];
    let line = topLine();
    let lineStart = await isLineStart(state.top);
    for (let at = state.top; rows.length < count;) {
      const row = await rowAt(at);
      if (!row) break;
      row.line = line;
      row.lineStart = lineStart;
      rows.push(row);
      if (row.newline && line !== null) line += 1;
      lineStart = row.newline;
      at = row.next;
    }
    return rows;
  }

  // ---- Drawing ------------------------------------------------------------------------------
  const controlPictures = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

  function textOf(bytes) {
    return decoder.decode(bytes).replace(controlPictures, (c) => String.fromCharCode(c === '\u007f' ? 0x2421 : 0x2400 + c.charCodeAt(0)));
  }

  /** Appends bytes [start, end) as text, the part inside the highlight in a <mark>. */
  function appendText(element, start, end, render) {
    const [h0, h1] = state.highlight || [0, 0];
    const m0 = Math.min(Math.max(h0, start), end);
    const m1 = Math.min(Math.max(h1, start), end);
    if (m0 > start) element.append(render(start, m0));
    if (m1 > m0) {
      const mark = document.createElement('mark');
      mark.textContent = render(m0, m1);
      element.append(mark);
    }
    if (end > m1) element.append(render(m1, end));
  }

  /** A row's element and its gutter (already in it), for text and hex rows alike. */
  function rowElement(row, label) {
    const element = document.createElement('span');
    element.className = 'row';
    element.dataset.offset = row.start;
    const gutter = document.createElement('span');
    gutter.className = 'gutter';
    gutter.textContent = label + ' ';
    element.append(gutter);
    return element;
  }

  function textRow(row, gutterWidth) {
    const element = rowElement(row, gutterText(row).padStart(gutterWidth));
    const text = document.createElement('span');
    text.className = 'text';
    // A CRLF line's \r is part of the line but not shown.
    const end = row.newline && row.end > row.start && byteAt(row.end - 1) === 13 ? row.end - 1 : row.end;
    appendText(text, row.start, end, (a, b) => textOf(slice(a, b)));
    if (row.line !== null && row.line === state.targetLine && row.lineStart) element.classList.add('target');
    if (row.line !== null) element.dataset.line = row.line;
    element.append(text);
    return element;
  }

  function gutterText(row) {
    if (!row.lineStart) return '↪';
    return row.line === null ? `@${row.start}` : String(row.line);
  }

  function hexRow(row, gutterWidth) {
    const element = rowElement(row, row.start.toString(16).padStart(gutterWidth, '0'));
    const bytes = slice(row.start, row.end);
    const hex = document.createElement('span');
    hex.className = 'hex';
    const hexOf = (a, b) => Array.from(bytes.subarray(a - row.start, b - row.start), (byte, i) => {
      const column = a - row.start + i;
      return byte.toString(16).padStart(2, '0') + (column === 7 ? '  ' : column === HEX - 1 ? '' : ' ');
    }).join('');
    appendText(hex, row.start, row.end, hexOf);
    const padding = HEX - bytes.length;
    if (padding > 0) hex.append(' '.repeat(padding * 3 + (bytes.length <= 8 ? 1 : 0) - 1));
    const ascii = document.createElement('span');
    ascii.className = 'ascii';
    const asciiOf = (a, b) => Array.from(bytes.subarray(a - row.start, b - row.start),
      (byte) => (byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : '.')).join('');
    appendText(ascii, row.start, row.end, asciiOf);
    element.append(hex, '  |', ascii, '|');
    return element;
  }

  async function draw() {
    const count = viewportRows();
    const rows = await screenRows(count);
    state.rows = rows;
    const fragment = document.createDocumentFragment();
    if (state.mode === 'hex') {
      const width = Math.max(8, (size > 0 ? size - 1 : 0).toString(16).length);
      for (const row of rows) fragment.append(hexRow(row, width), '\n');
    } else {
      const width = Math.max(4, ...rows.map((row) => gutterText(row).length));
      for (const row of rows) fragment.append(textRow(row, width), '\n');
    }
    rowsElement.replaceChildren(fragment);
    position.value = String(state.top);
    main.dataset.mode = state.mode;
    main.dataset.top = String(state.top);
    main.dataset.topLine = topLine() === null ? '' : String(topLine());
    showStatus(rows);
    if (firstScreen) {
      firstScreen = false;
      performance.mark('mmapd-first-screen');
    }
    main.dataset.draws = String(++draws);
  }

  function showStatus(rows) {
    if (size === 0) {
      statusElement.textContent = 'The file is empty.';
      return;
    }
    const last = rows.length ? rows[rows.length - 1].end : state.top;
    const percent = ((100 * last) / size).toFixed(1);
    let lines = '';
    if (state.mode === 'text' && rows.length) {
      const first = rows[0].line;
      const end = rows[rows.length - 1].line;
      lines = first === null ? 'line numbers: counting… · ' : `lines ${first.toLocaleString()}–${end.toLocaleString()} · `;
    }
    statusElement.textContent = `${lines}bytes ${state.top.toLocaleString()}–${last.toLocaleString()} of ${size.toLocaleString()} (${percent}%)`;
  }

  function showError(error) {
    statusElement.textContent = '';
    statusElement.append(error.message || String(error));
    if (error instanceof FileChanged) {
      const reload = document.createElement('a');
      reload.href = location.href;
      reload.textContent = 'Reload';
      statusElement.append(' ', reload);
    }
    main.dataset.error = error.message || String(error);
  }

  // ---- One thing at a time ------------------------------------------------------------------
  // Moves run one after another; scroll steps that arrive meanwhile add up into one move.
  let chain = Promise.resolve();
  function run(task) {
    chain = chain.then(task).catch(showError);
    return chain;
  }

  let pendingRows = 0;
  let scrollQueued = false;
  function scrollBy(rows) {
    pendingRows += rows;
    if (scrollQueued) return;
    scrollQueued = true;
    run(async () => {
      scrollQueued = false;
      const amount = pendingRows;
      pendingRows = 0;
      await moveRows(amount);
      await draw();
    });
  }

  /** Moves `top` by `amount` rows (negative: up), not past the start or the last screen. */
  async function moveRows(amount) {
    if (amount > 0) {
      const count = viewportRows();
      if (state.mode === 'hex') {
        const lastTop = Math.max(0, Math.ceil(size / HEX) * HEX - count * HEX);
        state.top = Math.max(state.top, Math.min(lastTop, state.top + amount * HEX));
        return;
      }
      const rows = await screenRows(amount + count);
      const steps = Math.max(0, Math.min(amount, rows.length - count));
      for (let i = 0; i < steps; i++) if (rows[i].newline) state.lineDelta += 1;
      if (steps > 0) state.top = rows[steps].start;
    } else if (amount < 0) {
      if (state.mode === 'hex') {
        state.top = Math.max(0, state.top + amount * HEX);
        return;
      }
      for (let i = 0; i < -amount && state.top > 0; i++) {
        const row = await rowBefore(state.top);
        if (row.newline) state.lineDelta -= 1;
        state.top = row.start;
      }
    }
  }

  // ---- Jumps --------------------------------------------------------------------------------

  /** Starts a new anchor at `top` with a known line number, or null (then counted). */
  function anchor(top, line) {
    state.epoch += 1;
    state.top = top;
    state.lineBase = line;
    state.lineDelta = 0;
    if (line === null && state.mode === 'text') countLines(state.epoch, top);
  }

  /** Asks /search how many newlines precede `at`: its line number is that plus one. */
  async function countLines(epoch, at) {
    try {
      const answer = await M.getJSON(`${searchURL}?q=%0A&end=${at}&limit=0`);
      if (answer.count === null || epoch !== state.epoch) return;
      state.lineBase = answer.count + 1;
      await run(draw);
    } catch (error) {
      // The offsets stay in the gutter; the search's refusal is worth a look in the console.
      console.warn('line count failed', error);
    }
  }

  async function toStart() {
    anchor(0, 1);
    await draw();
  }

  /** Opens the screen at byte `at` with `line` (the line holding it) when known. */
  async function toOffset(at, line, context) {
    at = Math.max(0, Math.min(at, size));
    if (at >= size && size > 0) return toEnd();
    if (state.mode === 'hex') {
      anchor(Math.floor(at / HEX) * HEX, null);
    } else {
      anchor(await rowStartFor(at), line);
    }
    await moveRows(-context);
    await draw();
  }

  /** What the lines view says about `selection`: [first line, first byte] or null (no lines). */
  async function lineStart(selection) {
    const controller = new AbortController();
    const response = await fetch(M.withSigned(`${fileURL}?lines=${selection}`), { signal: controller.signal });
    // Only the headers are needed: the body could be a huge last line.
    controller.abort();
    if (!response.ok) throw new Error(await M.describe(response));
    // The view has its own ETag, the file's followed by `.lines.<selection>`: If-Match with the
    // file's would never match it, so the version is compared here instead.
    const viewTag = response.headers.get('ETag');
    if (viewTag && !viewTag.startsWith(etag.slice(0, -1) + '.lines.')) {
      throw new FileChanged('The file changed since this page was loaded.');
    }
    const lines = response.headers.get('Mmapd-Lines');
    const span = response.headers.get('Mmapd-Byte-Span');
    if (!span) throw new NoLinesView('This server has no lines view (?lines=); jump by offset instead.');
    if (!lines || span.startsWith('*')) return null;
    return [Number(lines.split('-')[0]), Number(span.split('-')[0])];
  }

  async function toLine(line) {
    const found = await lineStart(`${line}-${line}`);
    if (!found) {
      await toEnd();
      statusElement.textContent = `There is no line ${line.toLocaleString()}: ${statusElement.textContent}`;
      return;
    }
    state.targetLine = line;
    const byte = found[1];
    if (state.mode === 'hex') return toOffset(byte, null, 0);
    await toOffset(byte, line, CONTEXT);
  }

  async function toEnd() {
    if (state.mode === 'hex' || size === 0) {
      anchor(Math.max(0, Math.ceil(size / HEX) * HEX - viewportRows() * HEX), null);
      return draw();
    }
    // The last line's number (its start is not needed: the rows are found backwards from the end).
    let last = null;
    try {
      last = await lineStart('-1');
    } catch (error) {
      // Without the lines view the end is still found (backwards), only its number is counted.
      if (!(error instanceof NoLinesView)) throw error;
    }
    await ensure(size - 1, size);
    const endsWithNewline = byteAt(size - 1) === 10;
    anchor(size, last === null ? null : last[0] + (endsWithNewline ? 1 : 0));
    await moveRows(-viewportRows());
    await draw();
  }

  // ---- Mode ---------------------------------------------------------------------------------

  /** Text unless the first 8 KiB hold a NUL byte, invalid UTF-8 or mostly control bytes. */
  async function sniff() {
    const end = Math.min(size, 8192);
    if (end === 0) return 'text';
    await ensure(0, end);
    const sample = slice(0, end);
    if (sample.includes(0)) return 'hex';
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: true });
    } catch (ignored) {
      return 'hex';
    }
    let controls = 0;
    for (const byte of sample) if (byte < 0x20 && byte !== 9 && byte !== 10 && byte !== 13 && byte !== 12) controls++;
    return controls * 10 > sample.length ? 'hex' : 'text';
  }

  async function setMode(mode) {
    if (mode === state.mode) return;
    const at = state.rows.length ? state.rows[0].start : state.top;
    state.mode = mode;
    await toOffset(at, null, 0);
  }

  // ---- Addresses: each jump is a history entry, so Back returns -------------------------------
  let chosenMode = main.dataset.mode || null; // a mode from the address or a button, kept in links
  function remember(query) {
    if (chosenMode) query.set('mode', chosenMode);
    const url = `${viewURL}?${query}`;
    history.pushState(null, '', M.withSigned(url));
  }

  async function openFromAddress() {
    const query = new URLSearchParams(location.search);
    const line = query.get('line');
    const offset = query.get('offset');
    const length = query.get('length');
    state.highlight = offset !== null && length !== null ? [Number(offset), Number(offset) + Number(length)] : null;
    state.targetLine = line !== null ? Number(line) : null;
    if (offset !== null) return toOffset(Number(offset), line !== null ? Number(line) : null, CONTEXT);
    if (line !== null) return toLine(Number(line));
    return toStart();
  }

  // ---- Search -------------------------------------------------------------------------------
  let lastSearch = null;

  async function search(query, search, start) {
    if (start !== undefined) query.set('start', start);
    query.set('limit', '100');
    const answer = await M.getJSON(`${searchURL}?${query}`);
    hits.hidden = false;
    let list = hits.querySelector('ol');
    if (start === undefined) {
      const heading = document.createElement('h2');
      heading.textContent = `“${search.q}”: ${M.countText(answer, answer.matches.length)}`;
      list = document.createElement('ol');
      list.className = 'hit-list';
      hits.replaceChildren(heading, list);
      lastSearch = { search, shown: 0, count: answer.count };
    }
    const path = decodeURIComponent(fileURL.slice('/files/'.length));
    for (const match of answer.matches) list.append(M.hitItem(path, match, search, false, chosenMode));
    lastSearch.shown += answer.matches.length;
    if (start !== undefined) hits.querySelector('h2').textContent = `“${search.q}”: ${M.countText({ count: lastSearch.count }, lastSearch.shown)}`;
    hits.querySelector('button.more')?.remove();
    if (answer.truncated && answer.next !== null) {
      const more = document.createElement('button');
      more.type = 'button';
      more.className = 'more';
      more.textContent = 'More matches';
      more.addEventListener('click', () => run(() => search(new URLSearchParams(query), search, answer.next)));
      hits.append(more);
    }
    main.dataset.searched = String(lastSearch.shown);
  }

  hits.addEventListener('click', (event) => {
    const link = event.target.closest('a.hit');
    if (!link) return;
    event.preventDefault();
    history.pushState(null, '', link.href);
    run(openFromAddress);
    rowsElement.focus();
  });

  // ---- Wiring -------------------------------------------------------------------------------
  main.querySelector('form.goto-line').addEventListener('submit', (event) => {
    event.preventDefault();
    const line = Number(event.target.elements.line.value);
    if (!Number.isSafeInteger(line) || line < 1) return;
    remember(new URLSearchParams({ line }));
    state.highlight = null;
    run(() => toLine(line));
    rowsElement.focus();
  });

  main.querySelector('form.goto-offset').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = event.target.elements.offset.value.trim();
    const offset = /^0x/i.test(text) ? parseInt(text.slice(2), 16) : Number(text);
    if (!Number.isSafeInteger(offset) || offset < 0) return;
    remember(new URLSearchParams({ offset }));
    state.highlight = null;
    state.targetLine = null;
    run(() => toOffset(offset, null, 0));
    rowsElement.focus();
  });

  main.querySelector('form.mode').addEventListener('submit', (event) => {
    event.preventDefault();
    const mode = event.submitter ? event.submitter.value : state.mode === 'text' ? 'hex' : 'text';
    chosenMode = mode;
    const query = new URLSearchParams(location.search);
    query.set('mode', mode);
    history.replaceState(null, '', `${viewURL}?${query}`);
    run(() => setMode(mode));
  });

  main.querySelector('form.file-search').addEventListener('submit', (event) => {
    event.preventDefault();
    const { query, search: terms } = M.searchQuery(event.target);
    if (!terms.q) return;
    statusElement.textContent = 'Searching…';
    run(async () => {
      await search(query, terms);
      await draw();
    });
  });

  main.querySelector('button.to-start').addEventListener('click', () => {
    remember(new URLSearchParams({ offset: 0 }));
    run(toStart);
    rowsElement.focus();
  });
  main.querySelector('button.to-end').addEventListener('click', () => {
    run(toEnd);
    rowsElement.focus();
  });

  let pendingPosition = null;
  position.max = String(size);
  position.step = String(Math.max(1, Math.ceil(size / 1000)));
  position.addEventListener('input', () => {
    const queued = pendingPosition !== null;
    pendingPosition = Number(position.value);
    if (queued) return;
    run(async () => {
      const at = pendingPosition;
      pendingPosition = null;
      await toOffset(at, null, 0);
    });
  });

  rowsElement.addEventListener('wheel', (event) => {
    if (Math.abs(event.deltaY) <= Math.abs(event.deltaX)) return;
    event.preventDefault();
    const pixels = event.deltaMode === 1 ? event.deltaY * rowHeight : event.deltaMode === 2 ? event.deltaY * rowsElement.clientHeight : event.deltaY;
    const rows = Math.trunc(pixels / (rowHeight || 16)) || Math.sign(pixels);
    scrollBy(rows);
  }, { passive: false });

  const keys = {
    ArrowDown: () => scrollBy(1), j: () => scrollBy(1),
    ArrowUp: () => scrollBy(-1), k: () => scrollBy(-1),
    PageDown: () => scrollBy(viewportRows() - 1), ' ': () => scrollBy(viewportRows() - 1),
    PageUp: () => scrollBy(1 - viewportRows()),
    Home: () => run(toStart), End: () => run(toEnd),
  };
  rowsElement.addEventListener('keydown', (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const action = event.shiftKey && event.key === ' ' ? () => scrollBy(1 - viewportRows()) : keys[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });
  document.addEventListener('keydown', (event) => {
    if (event.target.closest('input, textarea, select, button') || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === '/') {
      event.preventDefault();
      main.querySelector('form.file-search input[name=q]').focus();
    } else if (event.key === 'g') {
      event.preventDefault();
      main.querySelector('form.goto-line input[name=line]').focus();
    }
  });

  window.addEventListener('popstate', () => run(openFromAddress));
  new ResizeObserver(() => run(draw)).observe(rowsElement);

  run(async () => {
    state.mode = main.dataset.mode || (await sniff());
    await openFromAddress();
  });
})();
