// mmapd pages: what the listing and viewer scripts share. Plain script, no build step, no
// dependencies; it defines one global, `Mmapd`.
'use strict';

window.Mmapd = (() => {
  // A signed link's grant (contract, "Access control and TLS"): when one allowed the page, the
  // server names it in <body data-grant="expires=…&signature=…">, and every request the page
  // makes, and every link it writes, carries it on. (Its fetches and links stay within the
  // page's own path, or below it, which the grant reaches.)
  const signed = document.body.dataset.grant || '';

  /** `url` with the page's signed-link parameters appended, when it has any. */
  function withSigned(url) {
    if (!signed) return url;
    return url + (url.includes('?') ? '&' : '?') + signed;
  }

  /** One line about a failed answer: the problem+json detail when there is one. */
  async function describe(response) {
    let detail = '';
    try {
      const body = await response.json();
      detail = body.detail || body.title || '';
    } catch (ignored) {
      // Not JSON: the status says enough.
    }
    return `${response.status} ${response.statusText}${detail ? ': ' + detail : ''}`;
  }

  /** GET a JSON answer (with the signed parameters); throws an Error with `describe`'s line. */
  async function getJSON(url, signal) {
    const response = await fetch(withSigned(url), { headers: { Accept: 'application/json' }, signal });
    if (!response.ok) throw new Error(await describe(response));
    return response.json();
  }

  /** A root-relative path (`a b/c.txt`) percent-encoded segment by segment. */
  function encodePath(path) {
    return path.split('/').map(encodeURIComponent).join('/');
  }

  /** `1.5 KiB` etc.: binary units, as the listings print them. */
  function humanBytes(count) {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
    let value = count;
    let unit = 0;
    while (value >= 1023.5 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    if (unit === 0) return `${count} B`;
    return `${value < 9.95 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
  }

  /**
   * Appends `text` to `element`, each occurrence of the search inside it in a <mark>. The answer
   * gives a match's offset in the file, not in its (possibly shortened) line, so the line is
   * searched again here: literally, or with the pattern as a JavaScript RegExp when that parses
   * (PCRE2 and JavaScript agree on the common patterns; when not, nothing is marked).
   */
  function appendMarked(element, text, search) {
    let pattern = null;
    try {
      const source = search.regex ? search.q : search.q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      pattern = new RegExp(source, search.icase ? 'gi' : 'g');
    } catch (ignored) {
      pattern = null;
    }
    let at = 0;
    if (pattern) {
      for (const found of text.matchAll(pattern)) {
        if (found[0].length === 0) continue;
        element.append(text.slice(at, found.index));
        const mark = document.createElement('mark');
        mark.textContent = found[0];
        element.append(mark);
        at = found.index + found[0].length;
      }
    }
    element.append(text.slice(at));
  }

  /** The viewer link for a search match: its line (when known), its offset, its length. */
  function viewerLink(path, match, mode) {
    const query = new URLSearchParams();
    if (match.line !== undefined && match.line !== null) query.set('line', match.line);
    query.set('offset', match.offset);
    query.set('length', match.length);
    if (mode) query.set('mode', mode);
    return withSigned(`/view/${encodePath(path)}?${query}`);
  }

  /**
   * One <li> per match, linking into the viewer: `path:line` (trees) or `line` and the matching
   * line with the match marked.
   */
  function hitItem(path, match, search, showPath, mode) {
    const item = document.createElement('li');
    const link = document.createElement('a');
    link.href = viewerLink(path, match, mode);
    link.className = 'hit';
    link.dataset.offset = match.offset;
    link.dataset.length = match.length;
    if (match.line !== undefined) link.dataset.line = match.line;
    const where = document.createElement('span');
    where.className = 'where';
    const line = match.line !== undefined ? `line ${match.line}` : `byte ${match.offset}`;
    where.textContent = showPath ? `${path}:${match.line !== undefined ? match.line : '@' + match.offset}` : line;
    const text = document.createElement('code');
    appendMarked(text, match.text.replace(/\r$/, ''), search);
    link.append(where, ' ', text);
    item.append(link);
    return item;
  }

  /** A search's query string from a form: q, and regex/icase when ticked. */
  function searchQuery(form) {
    const data = new FormData(form);
    const query = new URLSearchParams();
    query.set('q', data.get('q') || '');
    for (const flag of ['regex', 'icase']) {
      if (data.get(flag)) query.set(flag, 'true');
    }
    return { query, search: { q: query.get('q'), regex: query.has('regex'), icase: query.has('icase') } };
  }

  /** "1 match", "2 matches", "at least 100 matches" (count unknown). */
  function countText(answer, shown) {
    if (answer.count === null || answer.count === undefined) return `${shown}+ matches (the search was cut short)`;
    const noun = answer.count === 1 ? 'match' : 'matches';
    return answer.count > shown ? `${answer.count} ${noun}, the first ${shown} shown` : `${answer.count} ${noun}`;
  }

  return { signed, withSigned, describe, getJSON, encodePath, humanBytes, appendMarked, viewerLink, hitItem,
    searchQuery, countText };
})();
