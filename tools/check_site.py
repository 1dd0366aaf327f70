#!/usr/bin/env python
"""Check the built docs site in a real browser (headless Chromium driven by Selenium).

    python tools/check_site.py            # checks _site/, screenshots into _site_screenshots/

Serves the site on 127.0.0.1 (a local http.server thread), opens every page (the ones reached from the home page
plus every .html file), and fails when a page does not load, logs a JavaScript console error (a failed script,
style sheet or image load shows up there too), links to a local page that does not exist, shows an image that does
not load, shows fewer images than its notebook's outputs hold, links to a missing anchor on a page of the site (only
reported with --anchors-warn), or when the site's search finds nothing. Also fails when README.md links to a page (or an
anchor) of the docs site (`doc_host` + `doc_baseurl` of `[tool.nbdev]`) that the built site does not have. Saves full-page
screenshots of the home page and of the report page.

Uses the system browser and driver (Debian: `apt-get install chromium chromium-driver`); nothing is downloaded.
"""
from __future__ import annotations

import argparse, functools, http.server, json, os, re, shutil, sys, threading, time
from pathlib import Path
from urllib.parse import urldefrag, urlparse, unquote
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent


def find(names, env):
    for n in [os.environ.get(env)] + names:
        if n and (shutil.which(n) or Path(n).exists()): return shutil.which(n) or n
    sys.exit(f'check_site: none of {names} found (set {env}); on Debian/Ubuntu: apt-get install chromium chromium-driver')


def serve(site: Path):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request, client_address):  # a browser that drops a connection is no error of the site
            if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)): super().handle_error(request, client_address)
    srv = Server(('127.0.0.1', 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f'http://127.0.0.1:{srv.server_address[1]}/'


def browser(width=1280, height=900):
    os.environ.setdefault('SE_OFFLINE', 'true')  # never let Selenium Manager fetch a browser or a driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    o = webdriver.ChromeOptions()
    o.binary_location = find(['chromium', 'chromium-browser', 'google-chrome'], 'CHROME_BIN')
    for a in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', f'--window-size={width},{height}',
              '--disable-extensions', '--no-first-run', '--disable-background-networking', '--hide-scrollbars'):
        o.add_argument(a)
    o.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    d = webdriver.Chrome(options=o, service=Service(find(['chromedriver'], 'CHROMEDRIVER')))
    d.set_page_load_timeout(30)
    return d


PAGE_JS = """
const main = document.querySelector('#main-content, main, article') || document.body;
return {
  title: document.title,
  status: (performance.getEntriesByType('navigation')[0] || {}).responseStatus || 0,
  text: (main.innerText || '').length,
  links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
  ids: Array.from(document.querySelectorAll('[id]')).map(e => e.id).concat(
       Array.from(document.querySelectorAll('a[name]')).map(a => a.name)),
  main_images: main.querySelectorAll('img').length,
};
"""
IMAGES_JS = """
const imgs = Array.from(document.images);
imgs.forEach(i => { i.loading = 'eager'; });
return imgs.map(i => [i.currentSrc || i.src, i.complete, i.naturalWidth]);
"""


def local_file(site: Path, url: str, base: str) -> Path | None:
    "The file a same-site URL points at (None for other sites)."
    if not url.startswith(base): return None
    path = unquote(urlparse(url).path)
    f = site/path.lstrip('/')
    return f/'index.html' if path.endswith('/') or f.is_dir() else f


def screenshot(d, path: Path, max_height=8000):
    w = d.get_window_size()
    h = min(max_height, d.execute_script('return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)'))
    d.set_window_size(w['width'], max(h, w['height']))
    time.sleep(.3)
    path.parent.mkdir(parents=True, exist_ok=True)
    d.save_screenshot(str(path))
    d.set_window_size(w['width'], w['height'])


def site_url() -> str:
    "The docs site's address, as nbdev and tools/build_docs.py make it: `doc_host` + `doc_baseurl` of `[tool.nbdev]`."
    try:
        from nbdev.config import get_config
        cfg = get_config(path=str(ROOT))
        return (str(cfg.get('doc_host', '')) + str(cfg.get('doc_baseurl', ''))).rstrip('/')
    except Exception: return ''  # no nbdev config: no README links to check


def readme_links(readme: Path, site: str) -> list[tuple[str, str]]:
    "(page, anchor) of every link in `readme` into the docs site at `site`: `SITE/protocol.html#x` -> ('protocol.html', 'x')."
    if not site or not readme.is_file(): return []
    urls = re.findall(r'\]\((' + re.escape(site) + r'/[^)\s]*)\)', readme.read_text())
    return [((p := urldefrag(u[len(site) + 1:]))[0] or 'index.html', p[1]) for u in urls]


def check_readme_links(links: list, site_dir: Path, ids: dict) -> list[str]:
    "Problems with the README's links into the site: a page the site lacks, an anchor its page lacks."
    out = []
    for page, frag in links:
        if not (site_dir/page).is_file(): out.append(f'README.md: link to {page} (no {page} in the site)')
        elif frag and page in ids and frag not in ids[page] and unquote(frag) not in ids[page]:
            out.append(f'README.md: link to a missing anchor: {page}#{frag}')
    return out


def check(args) -> int:
    t0 = time.time()
    site = (ROOT/args.site).resolve()
    if not (site/'index.html').exists(): sys.exit(f'check_site: {site}/index.html not found: build the site first (python tools/build_docs.py)')
    mf = site/'_docs_manifest.json'
    manifest = json.loads(mf.read_text()) if mf.exists() else dict(home='index.html', pages=[])
    expect = {p['page']: p for p in manifest['pages']}
    srv, base = serve(site)
    problems, warnings, ids, links, n = [], [], {}, {}, 0
    report_page = next((p['page'] for p in manifest['pages'] if Path(p['source']).stem.endswith('_report')), 'report.html')
    todo = [manifest['home']] + [p['page'] for p in manifest['pages']] + \
           sorted(str(p.relative_to(site)) for p in site.rglob('*.html') if not p.relative_to(site).parts[0].startswith('_'))
    seen, d = set(), browser()
    try:
        while todo:
            page = todo.pop(0)
            if page in seen: continue
            seen.add(page)
            url = base + page
            try:
                with urlopen(url, timeout=10) as r: code = r.status
            except Exception as e: code = getattr(e, 'code', None) or str(e)
            if code != 200:
                problems.append(f'{page}: does not load (HTTP {code})'); continue
            try: d.get(url)
            except Exception as e:
                problems.append(f'{page}: does not load in the browser ({type(e).__name__}: {str(e).splitlines()[0]})'); continue
            for _ in range(50):
                if d.execute_script('return document.readyState') == 'complete': break
                time.sleep(.1)
            info = d.execute_script(PAGE_JS)
            if not info['title'] or info['text'] < 20: problems.append(f'{page}: loads but shows no content')
            end = time.time() + 10
            while True:  # images: every one loads (give slow ones up to 10 s)
                imgs = d.execute_script(IMAGES_JS)
                bad = [src for src, done, w in imgs if not (done and w > 0)]
                if not bad or time.time() > end: break
                time.sleep(.2)
            problems += [f'{page}: image does not load: {src[:120]}' for src in bad]
            want = expect.get(page, {}).get('images', 0)
            if info['main_images'] < want:
                problems.append(f'{page}: shows {info["main_images"]} images, its notebook has {want} image outputs')
            ids[page] = set(info['ids'])
            links[page] = info['links']
            for u in info['links']:
                f = local_file(site, urldefrag(u)[0], base)
                if f is None: continue
                rel = str(f.relative_to(site)) if f.is_relative_to(site) else str(f)
                if not f.exists(): problems.append(f'{page}: broken link to {u[len(base):]} (no {rel} in the site)')
                elif f.suffix == '.html' and rel not in seen and not rel.startswith('_'): todo.append(rel)
            time.sleep(.2)  # let late console messages arrive
            for e in d.get_log('browser'):
                if e.get('level') == 'SEVERE': problems.append(f'{page}: JavaScript console error: {e.get("message", "")[:300]}')
            if page == manifest['home'] and args.screenshots:
                screenshot(d, ROOT/args.screenshots/'home.png')
            if page == report_page and args.screenshots:
                screenshot(d, ROOT/args.screenshots/'report.png')
        for page, us in links.items():  # anchors, now that every page's ids are known
            for u in us:
                path, frag = urldefrag(u)
                f = local_file(site, path, base)
                if not frag or f is None or not f.exists(): continue
                rel = str(f.relative_to(site))
                if rel in ids and frag not in ids[rel] and unquote(frag) not in ids[rel]:
                    warnings.append(f'{page}: link to a missing anchor: {u[len(base):]}')
        # search: the site's own search (Sphinx's, offline) finds a word every page has
        d.get(base + 'search.html?q=' + args.search_word)
        n, end = 0, time.time() + 15
        while time.time() < end:
            n = d.execute_script("return document.querySelectorAll('#search-results li, ul.search li').length")
            if n: break
            time.sleep(.3)
        if not n: problems.append(f'search.html: searching for {args.search_word!r} finds nothing')
        for e in d.get_log('browser'):
            if e.get('level') == 'SEVERE': problems.append(f'search.html: JavaScript console error: {e.get("message", "")[:300]}')
    finally:
        d.quit()
        srv.shutdown()
    for p in manifest['pages']:
        if p['page'] not in seen: problems.append(f"{p['page']}: page of {p['source']} not found or not visited")
    problems += check_readme_links(readme_links(ROOT/args.readme, site_url()), site, ids)
    warnings = sorted(set(warnings))
    if not args.anchors_warn: problems += warnings
    else:
        for w in warnings: print(f'check_site: warning: {w}')
    for p in problems: print(f'check_site: FAIL: {p}')
    shots = f', screenshots in {args.screenshots}/' if args.screenshots else ''
    bad = {p.split(':')[0] for p in problems}
    print(f'check_site: {len(seen)} pages opened in headless Chromium, {len(bad)} with problems; the search finds '
          f'{n} results{shots} ({time.time() - t0:.1f} s)')
    return 1 if problems else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--site', default='_site', help='the built site (default: _site)')
    p.add_argument('--screenshots', default='_site_screenshots', help="where to save home.png and report.png ('' for none)")
    p.add_argument('--search-word', default='accuracy', help='a word the search must find (default: accuracy)')
    p.add_argument('--anchors-warn', action='store_true', help='report links to missing anchors without failing')
    p.add_argument('--readme', default='README.md', help="whose links into the docs site must resolve ('' for none)")
    return check(p.parse_args())


if __name__ == '__main__': sys.exit(main())
