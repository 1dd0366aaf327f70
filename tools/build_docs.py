#!/usr/bin/env python
"""Build the documentation site offline, from the notebooks, into `_site/`.

    python tools/build_docs.py            # -> _site/index.html

The notebooks go through nbdev's own docs processing first (the step `nbdev-docs` runs before Quarto: it executes the
import, export and `show_doc` cells, adds the API entries and the doc links, hides `#| hide` and exported cells), then
a small normalising step turns the Quarto-flavoured result into plain MyST notebooks, and Sphinx (myst-nb with
execution off, sphinx-book-theme) renders them. Outputs are shown as they are stored in the notebooks: nothing is run
except what nbdev runs for `show_doc`.

One source for both doc builds:
- page order and navigation: nbdev's `sidebar.yml` (`nbdev_sidebar`, from the notebooks' file names, the same file
  Quarto reads; a hand-written one is used as is when `custom_sidebar = true`);
- page names: nbdev's `output-file` (`22_report.ipynb` -> `report.html`), so nbdev's doc links and the Quarto site's
  URLs work here too;
- title, description, repository: `[tool.nbdev]` in pyproject.toml (which also writes nbs/nbdev.yml).

A notebook that nbdev cannot process fails the build, with the notebook, the cell and the reason. The usual cause:
nbdev executes every cell that contains an import statement (to make `show_doc` work), so a test cell that imports
something *and* uses a name from a cell nbdev does not run breaks the docs. Keep imports in the import cells.
"""
from __future__ import annotations

import argparse, hashlib, html, json, os, re, shutil, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT/'_build'/'docs'
BUILDER_VERSION = '1'  # bump to invalidate the processing cache when this file changes what it writes
IMAGE_MIMES = ('image/png', 'image/jpeg', 'image/gif', 'image/svg+xml')
WIDGET_MIMES = ('application/vnd.jupyter.widget-view+json', 'application/vnd.jupyter.widget-state+json')
HINT = ("nbdev executes every cell that contains an import statement while it prepares the docs (so that show_doc "
        "works), even test cells, and skips the other cells. A cell that imports something and also uses a name "
        "defined in a cell that nbdev does not run fails there. Fix: move the import into the notebook's import cells "
        "(the cells at the top), or split the cell so that the import stands alone.")


def log(*a): print('docs:', *a, flush=True)


# ---------------------------------------------------------------------------------------------------------- discovery
def nbdev_config():
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    from nbdev.config import get_config
    return get_config()


def sidebar(cfg) -> list:
    """Page order as nbdev's `sidebar.yml`: [(section or None, [notebook paths relative to nbs])]."""
    import yaml
    from nbdev.quarto import nbdev_sidebar
    nbs = Path(cfg.nbs_path)
    nbdev_sidebar.__wrapped__(path=str(nbs))  # writes nbs/sidebar.yml unless `custom_sidebar` (what `nbdev-docs` does)
    if not (nbs/'sidebar.yml').exists(): sys.exit(f'docs: {nbs/"sidebar.yml"} is missing (custom_sidebar is set)')
    contents = yaml.safe_load((nbs/'sidebar.yml').read_text())['website']['sidebar']['contents']
    groups = {None: []}  # section -> notebooks, in the sidebar's order (nested sections are listed flat)

    def walk(items, section):
        for it in items:
            if isinstance(it, str): groups.setdefault(section, []).append(it)
            elif isinstance(it, dict) and 'section' in it:
                if it.get('href'): groups.setdefault(it['section'], []).append(it['href'])
                walk(it.get('contents', []), it['section'])
            elif isinstance(it, dict) and (it.get('href') or it.get('file')):
                groups.setdefault(section, []).append(it.get('href') or it.get('file'))
    walk(contents, None)
    out = []
    for sec, files in groups.items():
        for f in files:
            if not f.endswith('.ipynb'): log(f'skipping {f}: the offline build renders notebooks only')
        keep = [f for f in files if f.endswith('.ipynb')]
        if keep: out.append((sec, keep))
    return out


# --------------------------------------------------------------------------------------------------------- processing
def _lib_digest(cfg) -> str:
    h = hashlib.sha256()
    h.update(BUILDER_VERSION.encode())
    import nbdev
    h.update(nbdev.__version__.encode())
    h.update(Path(cfg.config_file).read_bytes())
    for p in sorted(Path(cfg.lib_path).rglob('*.py')): h.update(p.name.encode()); h.update(p.read_bytes())
    return h.hexdigest()


def _process(src: str, dst: str) -> dict:
    "Run nbdev's docs processors on one notebook; return the error and the warnings, if any."
    import contextlib, io, warnings
    os.chdir(ROOT)
    if str(ROOT) not in sys.path: sys.path.insert(0, str(ROOT))
    from nbdev.processors import FilterDefaults
    import nbdev.serve_drv
    t0, err, out = time.time(), None, io.StringIO()
    with warnings.catch_warnings(record=True) as ws, contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        warnings.simplefilter('always')
        try: nbdev.serve_drv.main((Path(src), Path(dst), FilterDefaults))
        except BaseException as e:  # noqa: BLE001 -- every failure is reported, with its notebook
            err = f'{type(e).__name__}: {e}'
            if e.__cause__ is not None: err += f'\n(caused by {type(e.__cause__).__name__}: {e.__cause__})'
            Path(dst).unlink(missing_ok=True)
    mixed = [str(w.message).split('---')[1].strip() for w in ws if 'Found cells containing imports' in str(w.message)]
    return dict(src=src, error=err, mixed=mixed, seconds=time.time() - t0)


def _explain(src: Path, error: str) -> str:
    "Where the failing cell is in the source notebook (nbdev numbers the processed one) and why it failed."
    m = re.search(r' in cell (\d+) :\n(.*)\n(\w+: .*)$', error, re.S)
    if not m: return error
    code, why = m.group(2), m.group(3).splitlines()[0]
    norm = lambda t: [l.rstrip() for l in t.strip().splitlines() if l.strip() and not l.lstrip().startswith('#|')]
    where = f'a cell (processed cell {m.group(1)})'
    for i, c in enumerate(json.loads(src.read_text())['cells']):
        if c['cell_type'] == 'code' and norm(_src(c)) == norm(code):
            where = f"cell {i + 1} of {src.name} (cell id {c.get('id', '?')})"
            break
    lines = code.strip().splitlines()
    shown = '\n'.join('      | ' + l for l in lines[:8]) + ('\n      | ...' if len(lines) > 8 else '')
    return f'{where}: {why}\n{shown}'


def process_all(cfg, notebooks: list, n_workers: int) -> dict:
    "Processed copies of `notebooks` (paths relative to nbs) under _build/docs/proc, cached by content."
    nbs, proc = Path(cfg.nbs_path), BUILD/'proc'
    proc.mkdir(parents=True, exist_ok=True)
    lib = _lib_digest(cfg)
    todo, out = [], {}
    for rel in notebooks:
        src, dst = nbs/rel, proc/rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        key = hashlib.sha256(lib.encode() + src.read_bytes()).hexdigest()
        stamp = dst.with_name(dst.name + '.key')
        out[rel] = dst
        if dst.exists() and stamp.exists() and stamp.read_text() == key: continue
        stamp.unlink(missing_ok=True)
        todo.append((rel, src, dst, stamp, key))
    if not todo:
        log(f'nbdev processing: {len(notebooks)} notebooks unchanged (cached)')
        return out
    env_pp = os.environ.get('PYTHONPATH', '')
    os.environ['PYTHONPATH'] = str(ROOT) + (os.pathsep + env_pp if env_pp else '')  # workers import this checkout
    t0, failed, mixed, slow = time.time(), [], [], []
    def run(chunk):  # one interpreter per worker, reused for its notebooks (as nbdev's own processing does)
        res = BUILD/f'proc-results-{os.getpid()}-{id(chunk)}.json'
        res.unlink(missing_ok=True)
        args = [a for t in chunk for a in (str(t[1]), str(t[2]))]
        p = subprocess.run([sys.executable, __file__, '--process', str(res), *args], capture_output=True, text=True)
        done = json.loads(res.read_text()) if res.exists() else {}
        res.unlink(missing_ok=True)
        crash = f'the processing process exited with {p.returncode}:\n{(p.stdout + p.stderr)[-3000:]}'
        return [done.get(str(t[1]), dict(error=crash, mixed=[], seconds=0.)) for t in chunk]
    n = max(1, min(n_workers, len(todo)))
    todo.sort(key=lambda t: -t[1].stat().st_size)  # big notebooks first, dealt round-robin
    chunks = [todo[i::n] for i in range(n)]
    with ThreadPoolExecutor(max_workers=n) as ex:
        results = [(t, r) for chunk, rs in zip(chunks, ex.map(run, chunks)) for t, r in zip(chunk, rs)]
    for (rel, src, dst, stamp, key), r in sorted(results, key=lambda x: str(x[0][0])):
        mixed += [(rel, m) for m in r['mixed']]
        if r['seconds'] > 5: slow.append(f"{rel} {r['seconds']:.0f} s")
        if r['error']: failed.append((rel, src, r['error']))
        else: stamp.write_text(key)
    if mixed:  # not an error, but these cells run in full during every docs build (and slow it down)
        per_nb = {}
        for rel, _ in mixed: per_nb[rel] = per_nb.get(rel, 0) + 1
        log('note: cells that mix imports with other code run in full during the docs build: ' +
            ', '.join(f'{Path(r).stem} ({n})' for r, n in per_nb.items()))
    if failed:
        if slow: log(f"nbdev processing: over 5 s: {', '.join(slow)}")
        print(file=sys.stderr)
        for rel, src, err in failed:
            print(f'docs: FAILED: nbdev could not process nbs/{rel} for the docs:\n  {_explain(src, err)}', file=sys.stderr)
        print(f'\ndocs: {HINT}', file=sys.stderr)
        sys.exit(1)
    log(f'nbdev processing: {len(todo)} of {len(notebooks)} notebooks in {time.time() - t0:.1f} s' +
        (f" (over 5 s: {', '.join(slow)})" if slow else ''))
    return out


# ------------------------------------------------------------------------------------------------------ normalisation
_re_dir = re.compile(r'^\s*#\|\s*([\w-]+)\s*:?\s*(.*?)\s*$')
_re_link_attr = re.compile(r'(\[[^\]\n]*\]\([^)\s]+\))\{[^}\n]*\}')
_re_src_link = re.compile(r'\[source\]\(([^)\s]+)\)\{[^}\n]*\}')
_re_head_attr = re.compile(r'^(#{1,6} .*?)\s*\{([^}\n]*)\}\s*$', re.M)
_re_div_open = re.compile(r'^(:{3,})\s*\{([^}]*)\}\s*$')
_re_div_close = re.compile(r'^(:{3,})\s*$')
_CALLOUTS = dict(note='note', tip='tip', warning='warning', important='important', caution='caution')


def slug(text: str) -> str:
    "Pandoc's (so Quarto's and nbdev's doc links') heading identifier."
    t = re.sub(r'[`*]', '', text).strip().lower()
    t = re.sub(r'[^\w\s.-]', '', t)
    t = re.sub(r'\s+', '-', t)
    return re.sub(r'^[^a-z]+', '', t) or 'section'


def _src(cell) -> str:
    s = cell.get('source', '')
    return ''.join(s) if isinstance(s, list) else s


def md_fix(text: str, pages: dict, site: str) -> str:
    "Quarto/nbdev markdown -> MyST: doc links made relative, attribute blocks dropped, callouts as admonitions."
    def link(url: str) -> str:
        if site and url.startswith(site + '/'): url = url[len(site) + 1:]
        m = re.match(r'^([^/#:?]+\.ipynb)(#.*)?$', url)  # a link to another notebook -> its page
        if m and m.group(1) in pages: url = pages[m.group(1)] + '.html' + (m.group(2) or '')
        return url
    text = _re_src_link.sub(lambda m: f'<a class="sd-source-link" href="{html.escape(m.group(1))}" target="_blank" '
                                      f'rel="noopener">source</a>', text)
    text = _re_link_attr.sub(r'\1', text)
    text = re.sub(r'\]\(([^)\s]+)\)', lambda m: f']({link(m.group(1))})', text)
    text = re.sub(r'href="([^"]+)"', lambda m: f'href="{link(m.group(1))}"', text)

    def head(m):
        ids = re.findall(r'#([\w.:-]+)', m.group(2))
        return (f'<a id="{ids[0]}"></a>\n\n' if ids else '') + m.group(1)
    text = _re_head_attr.sub(head, text)
    lines, stack = [], []
    for line in text.split('\n'):
        mo, mc = _re_div_open.match(line), _re_div_close.match(line)
        if mo:
            kind = re.search(r'\.callout-(\w+)', mo.group(2))
            if kind:
                title = re.search(r'title="([^"]*)"', mo.group(2))
                adm = _CALLOUTS.get(kind.group(1), 'note')
                lines += [f'{mo.group(1)}{{admonition}} {title.group(1)}', f':class: {adm}'] if title else \
                         [f'{mo.group(1)}{{{adm}}}']
                stack.append(True)
            else: stack.append(False)  # layout divs (columns, margins): keep the content, drop the fence
            continue
        if mc and stack:
            if stack.pop(): lines.append(line)
            continue
        lines.append(line)
    return '\n'.join(lines)


def _show_doc_md(text: str) -> str:
    "A show_doc entry as page markdown: no leading rule; Quarto's id for each heading where Sphinx's differs."
    from docutils.nodes import make_id
    text = re.sub(r'^\s*---\s*\n', '', text)

    def head(m):
        q = slug(m.group(2))
        anchor = f'<a id="{q}"></a>\n\n' if q != make_id(re.sub(r'[`*]', '', m.group(2))) else ''
        return f'{anchor}{m.group(1)} {m.group(2)}'
    return re.sub(r'^(#{1,6}) (.+)$', head, text, flags=re.M)


def _cell(cell_type, source, **kw):
    cid = kw.pop('id', None) or hashlib.sha1(f'{cell_type}:{source}'.encode()).hexdigest()[:8]
    c = dict(cell_type=cell_type, id=cid, metadata=kw.pop('metadata', {}), source=source)
    if cell_type == 'code': c.update(execution_count=kw.pop('execution_count', None), outputs=kw.pop('outputs', []))
    return c


WIDGET_NOTE = ('<p class="widget-note">An interactive widget is shown here in a running notebook '
               '(open the notebook in Jupyter to use it).</p>')


def normalise(nb: dict, pages: dict, site: str) -> tuple[dict, str, int]:
    "nbdev's processed notebook -> (MyST notebook, title, number of images it shows)."
    cells, title, n_images = [], None, 0
    for c in nb['cells']:
        t, s = c['cell_type'], _src(c)
        if t == 'raw':
            if s.lstrip().startswith('---') and title is None:
                import yaml
                fm = yaml.safe_load(s.strip().strip('-')) or {}
                title = str(fm.get('title') or '')
                desc = str(fm.get('description') or '').strip()
                md = f'# {title or "Untitled"}\n' + (f'\n{{.nb-description}}\n{md_fix(desc, pages, site)}\n' if desc else '')
                cells.append(_cell('markdown', md))
            continue
        if t == 'markdown':
            if not s.strip() or re.fullmatch(r'\s*<!--.*?-->\s*', s, re.S): continue
            cells.append(_cell('markdown', md_fix(s, pages, site), id=c.get('id')))
            continue
        if t != 'code': continue
        dirs, body = {}, []
        for line in s.splitlines():
            m = _re_dir.match(line)
            if m and not body: dirs[m.group(1).lower()] = m.group(2).strip().lower()
            else: body.append(line)
        code = '\n'.join(body).strip('\n')
        if dirs.get('include') == 'false': continue
        outs = c.get('outputs', [])
        if c.get('has_sd') or dirs.get('output') == 'asis':
            mds = [''.join(o['data']['text/markdown']) if isinstance(o['data']['text/markdown'], list) else o['data']['text/markdown']
                   for o in outs if 'text/markdown' in o.get('data', {})]
            if dirs.get('echo') not in ('false', 'fenced') and code and not c.get('has_sd'):
                cells.append(_cell('code', code, metadata={'tags': ['remove-output']}, id=c.get('id')))
            if mds: cells.append(_cell('markdown', md_fix(_show_doc_md('\n\n'.join(mds)), pages, site)))
            continue
        tags = []
        if dirs.get('echo') == 'false': tags.append('remove-input')
        if dirs.get('output') == 'false': tags.append('remove-output')
        if dirs.get('code-fold') in ('true', 'show'): tags.append('hide-input')
        new_outs = []
        for o in outs:
            o = dict(o)
            if o.get('output_type') == 'stream':  # drop what only moved the cursor (progress bars, widgets)
                txt = re.sub(r'\x1b\[[0-9;?]*[A-Za-z]', '', ''.join(o.get('text', [])))
                if not txt.strip(): continue
                o['text'] = txt
            if 'data' in o:
                data = {k: v for k, v in o['data'].items() if k not in WIDGET_MIMES}
                if len(data) < len(o['data']): data = {'text/html': WIDGET_NOTE}
                o['data'] = data
                if 'remove-output' not in tags: n_images += sum(k in data for k in IMAGE_MIMES) > 0
            new_outs.append(o)
        if not code and not new_outs: continue
        if not code: tags.append('remove-input')
        cells.append(_cell('code', code, metadata={'tags': tags} if tags else {}, outputs=new_outs,
                           execution_count=c.get('execution_count'), id=c.get('id')))
    if title is None:  # no frontmatter: the first heading is the title
        title = next((re.match(r'#\s+(.*)', _src(c)).group(1) for c in cells
                      if c['cell_type'] == 'markdown' and re.match(r'#\s+', _src(c))), 'Untitled')
    seen = set()
    for c in cells:  # cell ids stay unique
        while c['id'] in seen: c['id'] = hashlib.sha1(c['id'].encode()).hexdigest()[:8]
        seen.add(c['id'])
    meta = dict(kernelspec=dict(name='python3', display_name='Python 3', language='python'),
                language_info=dict(name='python'))
    return dict(nbformat=4, nbformat_minor=5, metadata=meta, cells=cells), title, n_images


def _page_name(proc_nb: dict, rel: str) -> str:
    for c in proc_nb['cells']:
        if c['cell_type'] == 'raw':
            m = re.search(r'^output-file:\s*(\S+)', _src(c), re.M)
            if m: return Path(m.group(1)).stem
    return re.sub(r'^\d+[a-z]?_', '', Path(rel).stem)


# ------------------------------------------------------------------------------------------------------------ sphinx
CONF = '''# Generated by tools/build_docs.py; edit that file, not this one.
import html, json
from docutils import nodes
from latex2mathml.converter import convert as _tex2mathml

_c = json.loads({cfg!r})
project = html_title = _c['title']
author = _c['author']
copyright = _c['copyright']
extensions = ['myst_nb']
root_doc = 'index'
exclude_patterns = ['_build']
myst_enable_extensions = ['dollarmath', 'amsmath', 'colon_fence', 'attrs_block', 'attrs_inline', 'html_image']
myst_all_links_external = True      # links are made relative by the builder; the browser check verifies them
nb_execution_mode = 'off'           # show the outputs stored in the notebooks
nb_ipywidgets_js = {{}}              # no widget JavaScript from a CDN: the site works offline
nb_merge_streams = True
suppress_warnings = ['myst.header', 'mystnb.unknown_mime_type']
html_theme = 'sphinx_book_theme'
html_theme_options = dict(repository_url=_c['repo_url'], repository_branch=_c['branch'], path_to_docs='nbs',
                          use_repository_button=bool(_c['repo_url']), home_page_in_toc=True, show_toc_level=2,
                          use_download_button=False, navigation_with_keys=False)
html_context = dict(default_mode='light')  # pydata-sphinx-theme logs a console error on a first visit without it
html_favicon = '_static/favicon.svg'
html_static_path = ['_static']
html_css_files = ['w2s_docs.css']
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None

# Maths as MathML at build time (latex2mathml): no MathJax from a CDN, so formulas show offline.
def _math(self, node, display):
    tex = node.astext()
    try: out = _tex2mathml(tex, display=display)
    except Exception: out = '<code class="tex">' + html.escape(tex) + '</code>'
    self.body.append(out if display == 'inline' else '<div class="math-block">' + out + '</div>')
    raise nodes.SkipNode

def setup(app):
    app.add_html_math_renderer('mathml', (lambda s, n: _math(s, n, 'inline'), None), (lambda s, n: _math(s, n, 'block'), None))

html_math_renderer = 'mathml'
'''

CSS = '''/* Generated by tools/build_docs.py */
.nb-description { font-size: 1.15rem; opacity: .75; margin-bottom: 1.5rem; }
a.sd-source-link { float: right; font-size: smaller; }
.widget-note { font-style: italic; opacity: .7; }
.math-block { overflow-x: auto; margin: 1em 0; }
@media (min-width: 992px) { #pst-header { display: none; } }  /* the sidebar holds the title and the search */
'''


FAVICON = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#2c5d8f"/>'
           '<text x="16" y="22" font-size="14" font-family="sans-serif" text-anchor="middle" fill="#fff">w2s</text></svg>\n')


def write_if_changed(p: Path, text: str):
    p.parent.mkdir(parents=True, exist_ok=True)
    if not p.exists() or p.read_text() != text: p.write_text(text)


def build(args) -> int:
    t_start = time.time()
    cfg = nbdev_config()
    from nbdev.quarto import refresh_quarto_yml
    refresh_quarto_yml()  # nbs/nbdev.yml from [tool.nbdev], as nbdev-docs does (a no-op when it is up to date)
    groups = sidebar(cfg)
    notebooks = [f for _, fs in groups for f in fs]
    if not any(Path(f).stem == 'index' for f in notebooks): sys.exit('docs: nbs/index.ipynb (the home page) is missing')
    procd = process_all(cfg, notebooks, args.n_workers)

    src_dir = BUILD/'src'
    if src_dir.exists(): shutil.rmtree(src_dir)
    proc_nbs = {rel: json.loads(p.read_text()) for rel, p in procd.items()}
    pages = {rel: _page_name(nb, rel) for rel, nb in proc_nbs.items()}
    dup = {v for v in pages.values() if list(pages.values()).count(v) > 1}
    if dup: sys.exit(f'docs: two notebooks would make the same page: {sorted(dup)}')
    site = (str(cfg.get('doc_host', '')) + str(cfg.get('doc_baseurl', ''))).rstrip('/')
    manifest = []
    for rel, nb in proc_nbs.items():
        out, title, n_img = normalise(nb, pages, site)
        if pages[rel] == 'index':
            tocs = []
            for sec, fs in groups:
                entries = [pages[f] for f in fs if pages[f] != 'index']
                if entries:
                    cap = f':caption: {sec}\n' if sec else ''
                    tocs.append(f'```{{toctree}}\n:hidden:\n:maxdepth: 1\n{cap}\n' + '\n'.join(entries) + '\n```')
            out['cells'] += [_cell('markdown', t) for t in tocs]
        write_if_changed(src_dir/f'{pages[rel]}.ipynb', json.dumps(out, indent=1))
        manifest.append(dict(page=f'{pages[rel]}.html', source=f'{Path(cfg.nbs_path).name}/{rel}', title=title,
                             images=n_img))
    conf = dict(title=str(cfg.get('title') or cfg.lib_name), author=str(cfg.get('author', '')),
                copyright=str(cfg.get('copyright', '') or ''), repo_url=str(cfg.get('git_url', '') or ''),
                branch=str(cfg.get('branch', 'main')))
    write_if_changed(src_dir/'conf.py', CONF.format(cfg=json.dumps(conf)))
    write_if_changed(src_dir/'_static'/'w2s_docs.css', CSS)
    write_if_changed(src_dir/'_static'/'favicon.svg', FAVICON)

    out_dir = (ROOT/args.out).resolve()
    html_dir = BUILD/'html'  # myst-nb writes output files beside its output folder: keep them in _build
    for d in (out_dir, html_dir):
        if d.exists(): shutil.rmtree(d)
    t0 = time.time()
    from sphinx.cmd.build import build_main
    warn_file = BUILD/'sphinx-warnings.txt'
    rc = build_main(['-b', 'html', '-q', '-E', '-j', '1', '-d', str(BUILD/'doctrees'), '-w', str(warn_file),
                     str(src_dir), str(html_dir)])
    warnings = [l for l in warn_file.read_text().splitlines() if l.strip()] if warn_file.exists() else []
    if rc: sys.exit(f'docs: Sphinx failed (exit {rc})')
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(html_dir), str(out_dir))
    (out_dir/'.nojekyll').touch()
    (out_dir/'_docs_manifest.json').write_text(json.dumps(dict(home='index.html', pages=manifest), indent=1))
    log(f'Sphinx: {len(manifest)} pages in {time.time() - t0:.1f} s' +
        (f', {len(warnings)} warnings (in {warn_file.relative_to(ROOT)})' if warnings else ', no warnings'))
    if warnings and args.strict: sys.exit('docs: --strict: Sphinx warned:\n' + '\n'.join(warnings))
    log(f'site: {out_dir.relative_to(ROOT) if out_dir.is_relative_to(ROOT) else out_dir}/index.html '
        f'({time.time() - t_start:.1f} s in all)')
    return 0


def main():
    if sys.argv[1:2] == ['--process']:  # internal: notebooks through nbdev's processors, results as JSON
        res, files, done = Path(sys.argv[2]), sys.argv[3:], {}
        for src, dst in zip(files[::2], files[1::2]):
            done[src] = _process(src, dst)
            res.write_text(json.dumps(done))
        return 0
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--out', default='_site', help='output folder (default: _site)')
    p.add_argument('--n-workers', type=int, default=max(1, min(2, os.cpu_count() or 1)),
                   help='processes for nbdev processing (default: 2)')
    p.add_argument('--strict', action='store_true', help='fail on any Sphinx warning')
    return build(p.parse_args())


if __name__ == '__main__': sys.exit(main())
