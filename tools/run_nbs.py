#!/usr/bin/env python
"""Re-execute notebooks in place and keep their outputs (figures, tables), so GitHub and the docs show them.

    W2S_PREFS_RESULTS=runs/default python tools/run_nbs.py nbs/22_report.ipynb nbs/17_experiment.ipynb

Each notebook runs exactly as `nbdev-test` runs it (nbdev's own executor, in its folder, cells flagged with
`tst_flags` such as `slow` skipped unless given with --flags), in a fresh process, with this checkout's `w2s_prefs`
imported first; on success its outputs are written back and the file is passed through `nbdev-clean`, so
`nbdev-clean` afterwards changes nothing. A notebook that fails is left as it was. `W2S_PREFS_RESULTS`,
`W2S_PREFS_TEXT_RESULTS` and `W2S_PREFS_SWEEP`, when set to relative paths, are taken relative to the current folder
(nbdev runs notebooks inside nbs/).
"""
from __future__ import annotations

import argparse, json, os, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_one(fn: Path, flags: str, timeout: int) -> int:
    "Child process: run `fn` with nbdev's executor and save its outputs (exit 0) or leave it unchanged (exit 1)."
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    from nbdev.config import get_config
    from nbdev.test import test_nb
    from nbdev.clean import nbdev_clean
    cfg = get_config()
    skip = [f for f in str(cfg.get('tst_flags', '')).split() if f not in flags.split()]
    ok, secs = test_nb(fn, skip_flags=skip, force_flags=flags.split(), do_print=False, showerr=True, basepath=ROOT,
                       save=True, cell_timeout=timeout or None)
    if not ok: return 1
    nbdev_clean.__wrapped__(fname=str(fn))
    nb = json.loads(fn.read_text())
    imgs = sum(1 for c in nb['cells'] for o in c.get('outputs', []) if any(k.startswith('image/') for k in o.get('data', {})))
    errs = sum(1 for c in nb['cells'] for o in c.get('outputs', []) if o.get('output_type') == 'error')
    print(f'run_nbs: {fn.relative_to(ROOT)}: ran in {secs:.0f} s, saved with {imgs} images'
          + (f' and {errs} error outputs' if errs else ''))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('notebooks', nargs='+', help='notebooks to run and save')
    p.add_argument('--flags', default='', help="test flags to run that are normally skipped, e.g. 'slow'")
    p.add_argument('--cell-timeout', type=int, default=0, help='seconds per cell (default: the `cell_timeout` config)')
    p.add_argument('--_one', action='store_true', help=argparse.SUPPRESS)
    a = p.parse_args()
    if a._one: return run_one(Path(a.notebooks[0]).resolve(), a.flags, a.cell_timeout)
    for var in ('W2S_PREFS_RESULTS', 'W2S_PREFS_TEXT_RESULTS', 'W2S_PREFS_SWEEP'):   # nbdev runs notebooks inside nbs/
        if os.environ.get(var): os.environ[var] = str(Path(os.environ[var]).resolve())
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT)] + [x for x in [os.environ.get('PYTHONPATH')] if x]))
    if not a.cell_timeout:
        sys.path.insert(0, str(ROOT))
        from nbdev.config import get_config
        a.cell_timeout = int(get_config(ROOT).get('cell_timeout', 600))
    failed = []
    for nb in a.notebooks:
        fn = Path(nb).resolve()
        if not fn.exists(): sys.exit(f'run_nbs: {nb} not found')
        t0 = time.time()
        r = subprocess.run([sys.executable, __file__, '--_one', str(fn), '--flags', a.flags, '--cell-timeout', str(a.cell_timeout)],
                           env=env, cwd=ROOT)
        if r.returncode:
            failed.append(nb)
            print(f'run_nbs: {nb}: FAILED after {time.time() - t0:.0f} s (left unchanged)', file=sys.stderr)
    if failed: sys.exit(f'run_nbs: {len(failed)} of {len(a.notebooks)} notebooks failed: {" ".join(failed)}')
    return 0


if __name__ == '__main__': sys.exit(main())
