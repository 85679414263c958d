// mmapd listing pages: the search box searches the directory's tree (`GET /search/<dir>/`) and
// lists the hits as links into the viewer. Without this script the form still submits to the
// same URL, which answers JSON.
'use strict';

(() => {
  const M = window.Mmapd;
  const form = document.querySelector('form.tree-search');
  if (!M || !form) return;

  // data-dir is the listing's own URL, /files/DIR/; the tree search is /search/DIR/.
  const directory = form.dataset.dir;
  const searchURL = '/search/' + directory.slice('/files/'.length);
  const results = document.createElement('section');
  results.className = 'hits';
  results.setAttribute('aria-label', 'Search results');
  results.setAttribute('aria-live', 'polite');
  results.hidden = true;
  form.after(results);

  // The paths in a tree search's matches are relative to the root, as /view/ wants them.
  async function show(query, terms, cursor) {
    if (cursor) query.set('cursor', cursor);
    query.set('limit', '100');
    let answer;
    try {
      answer = await M.getJSON(`${searchURL}?${query}`);
    } catch (error) {
      results.hidden = false;
      results.replaceChildren(Object.assign(document.createElement('p'), { className: 'error', textContent: error.message }));
      return;
    }
    results.hidden = false;
    let list = results.querySelector('ol');
    if (!cursor) {
      const heading = document.createElement('h2');
      const files = answer.files_matched !== undefined ? ` in ${answer.files_matched} of ${answer.files_searched} files` : '';
      heading.textContent = `“${terms.q}”: ${M.countText(answer, answer.matches.length)}${files}`;
      list = document.createElement('ol');
      list.className = 'hit-list';
      results.replaceChildren(heading, list);
    }
    for (const match of answer.matches) list.append(M.hitItem(match.path, match, terms, true));
    results.querySelector('button.more')?.remove();
    if (answer.truncated && answer.next) {
      const more = document.createElement('button');
      more.type = 'button';
      more.className = 'more';
      more.textContent = 'More matches';
      more.addEventListener('click', () => show(new URLSearchParams(query), terms, answer.next));
      results.append(more);
    }
    results.dataset.shown = String(list.children.length);
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const { query, search: terms } = M.searchQuery(form);
    if (!terms.q) return;
    results.hidden = false;
    results.replaceChildren(Object.assign(document.createElement('p'), { textContent: 'Searching…' }));
    show(query, terms);
  });
})();
