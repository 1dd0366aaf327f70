"""Benchmarks for `w2s_prefs`, measured side by side in one run and printed as one table.

1. Preference construction: the seed's algorithm (a Python double loop over examples that share a weak
   argmax, materialising the 2048-d difference vector `x_i - x_j` of every pair, more confident first)
   against `w2s_prefs.prefs.same_class_prefs` / `cross_class_prefs` (index pairs only). Time and peak
   memory, each measured in a fresh subprocess (peak RSS, see `peak_rss_delta`).
2. Probe training: A, one naive method's fits as the offline default trains them (4 configurations x 5 seeds for selection,
   then 5 final fits; d=1280, 20 epochs) by the previous per-fit trainer (a faithful copy, `legacy_fit`) and by
   `probes.train_heads` with the heads stacked; B, `train_heads` one head at a time against all heads stacked for
   cross-entropy, balanced aux_conf and the within-example preference loss; on the CPU and on CUDA when available.
3. Embedding extraction: `embed.embed` (and `models.extract`) against the bare forward pass of the strong
   model on the same pre-transformed Fashion-MNIST images.
4. End to end: the `w2s-prefs` CLI run three times in a subprocess: cold cache, cached rerun (embeddings and
   finished runs), and `--retrain` (embeddings cached, every fit trained again); stage timings read from its `results.json`.
5. Text extraction: `embed.embed` with the all-MiniLM-L6-v2 student on Rotten Tomatoes reviews (tokenise, forward, pool,
   cache write) against the bare forward pass of the same model on the same pre-tokenised, length-sorted batches; the
   sentence-transformers `encode` of the same texts as a reference.
6. Arithmetic throughput: the float32 matrix-multiply peak (`torch.mm` of large square matrices, GFLOP/s) and the
   GFLOP/s `probes.train_heads` achieves on section 2's selection call (FLOPs counted per step: the logits' and the
   weight gradient's products, 2*B*d*k each per head), and their ratio; on the CPU and on CUDA when available.
7. Generation and DPO (`w2s_prefs.dpo`, SmolLM2-135M-Instruct; `--quick`: the tiny random GPT-2): tokens/s of the bare
   forward pass and of a bare forward+backward on prompt+completion batches, of batched sampling (`dpo.sample`, new tokens)
   and unbatched sampling, and of TRL DPO training (`dpo.train_dpo`, chosen + rejected tokens per step), side by side.
8. Reward-model features (`w2s_prefs.reward`, SmolLM2-135M-Instruct mean-pooled after block 24 as `w2s-prefs-reward` extracts
   them; `--quick`: MiniLM): tokens/s of `embed.embed` (tokenise, forward, pool, cache write) of the preference set's texts
   against the bare forward pass of the same truncated model on the same pre-tokenised, length-sorted batches.
9. Pair losses: `probes.train_heads` on the offline default's selection heads (12 configurations x 5 seeds, n = 3200, d = 1280,
   k = 10, batch 100, one thread) with each pairwise loss of `pref_probe`, against the same call with cross-entropy and with a
   faithful copy of the autograd form those losses had before (`LEGACY_LOSSES`), interleaved, best of each.
10. Pair-source students: one-epoch `pair_sources.pair_students` calls (6 students side by side, one thread) without pairs, with
   class preferences and with same-class judgements; then their Bradley-Terry margin step (1600 pairs a step, d = 1280, k = 10,
   forward + backward): the full product against every class followed by a gather (what it runs) against one product per class
   over the pairs of that class (k times fewer multiply-adds); interleaved, best of each.

Usage: `python benchmarks/bench.py [--quick] [--sections 1 2 3 4 5 6 7 8 9 10] [--out benchmarks/results.json]`
(see benchmarks/README.md).
"""
from __future__ import annotations
import argparse, json, math, os, platform, resource, shlex, shutil, subprocess, sys, tempfile, time
from pathlib import Path
import torch

HERE = Path(__file__).resolve().parent
D_SEED, K = 2048, 10  # strong embedding size of the seed (DINO ResNet50) and number of classes

# ---------------------------------------------------------------------------------------------- helpers

def weak_probs(n:int, k:int=K, seed:int=0) -> torch.Tensor:
    "Weak soft labels: softmax of N(0, 2^2) logits from a seeded generator."
    g = torch.Generator().manual_seed(seed)
    return (2 * torch.randn(n, k, generator=g)).softmax(1)

def features(n:int, d:int, seed:int=1) -> torch.Tensor:
    "Random float32 'embeddings' from a seeded generator."
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed))

def _status_kb(field:str) -> int:
    for line in Path('/proc/self/status').read_text().splitlines():
        if line.startswith(field + ':'): return int(line.split()[1])
    raise KeyError(field)

def peak_rss_delta(fn):
    "Run `fn()`; return `(result, seconds, bytes)`, bytes = peak RSS during the call minus RSS just before it."
    try:
        Path('/proc/self/clear_refs').write_text('5')  # Linux: reset the peak-RSS high-water mark (VmHWM) to the current RSS
        base, peak = _status_kb('VmRSS'), lambda: _status_kb('VmHWM')
    except OSError:  # no reset available: fall back to the lifetime maximum (can only under-report)
        base, peak = _status_kb('VmRSS'), lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    out = fn()
    secs = time.perf_counter() - t0
    return out, secs, max(0, peak() - base) * 1024

def best_time(fn, reps:int, sync=lambda: None) -> float:
    "Minimum wall time of `reps` calls of `fn` (synchronising after each)."
    times = []
    for _ in range(reps):
        t0 = time.perf_counter(); fn(); sync(); times.append(time.perf_counter() - t0)
    return min(times)

def interleaved_best(fns:dict, reps:int, sync=lambda: None) -> dict:
    "`{name: best time}` of each function, the functions run in turn `reps` times: fair under a varying background load."
    times = {k: [] for k in fns}
    for _ in range(reps):
        for k, fn in fns.items(): times[k].append(best_time(fn, 1, sync))
    return {k: min(v) for k, v in times.items()}

def fmt_time(s):
    if s is None: return '-'
    return f'{s * 1e3:.1f} ms' if s < 1 else f'{s:.2f} s'

def fmt_bytes(b):
    if b is None: return '-'
    for unit, size in (('GB', 2**30), ('MB', 2**20), ('kB', 2**10)):
        if b >= size: return f'{b / size:.1f} {unit}'
    return f'{b} B'

def fmt_rate(r, unit):
    if r is None: return '-'
    return f'{r / 1e6:.2f}M {unit}/s' if r >= 1e6 else f'{r / 1e3:.1f}k {unit}/s' if r >= 1e3 else f'{r:.1f} {unit}/s'

def verdict(ok:bool) -> str: return 'PASS' if ok else 'MISS'

# ------------------------------------------------------------------------ 1. preference construction

def seed_prefs(x:torch.Tensor, probs:torch.Tensor, rows:int|None=None) -> torch.Tensor:
    """The seed's construction: for every pair (i, j) with the same weak argmax, append the difference of their strong
    embeddings, the more confident one first; then stack them into one training tensor. `rows` limits the outer loop
    (for extrapolation). Weak labels and confidences are read from Python lists, which is kinder than indexing tensors."""
    labels, conf = probs.argmax(1).tolist(), probs.max(1).values.tolist()
    n, diffs = len(x), []
    for i in range(n if rows is None else rows):
        for j in range(i + 1, n):
            if labels[i] != labels[j]: continue
            diffs.append(x[i] - x[j] if conf[i] > conf[j] else x[j] - x[i])
    return torch.stack(diffs)

def same_class_pair_count(probs:torch.Tensor, rows:int|None=None) -> tuple[int, int]:
    "(same-class pairs, inner-loop iterations) the seed's loop visits over its first `rows` rows."
    labels, n = probs.argmax(1), len(probs)
    rows = n if rows is None else rows
    pairs = sum(int((labels[i + 1:] == labels[i]).sum()) for i in range(rows))
    return pairs, sum(n - 1 - i for i in range(rows))

def prefs_worker(spec:dict) -> dict:
    "Runs in a fresh subprocess: one preference-construction measurement."
    torch.set_num_threads(spec['threads'])
    probs = weak_probs(spec['n'])
    if spec['impl'] == 'seed':
        x = features(spec['n'], D_SEED)
        diffs, secs, mem = peak_rss_delta(lambda: seed_prefs(x, probs, spec.get('rows')))
        return dict(seconds=secs, peak_bytes=mem, pairs=len(diffs), tensor_bytes=diffs.numel() * diffs.element_size())
    from w2s_prefs.prefs import same_class_prefs, cross_class_prefs
    build = dict(same_class=same_class_prefs, cross_class=cross_class_prefs)[spec['impl']]
    run = lambda: build(probs, budget=spec['budget'])
    build(weak_probs(200, seed=9), budget=spec['budget'])  # warm-up: first-call costs are not the algorithm's
    prefs, first, mem = peak_rss_delta(run)
    secs = min(first, best_time(run, spec['reps'] - 1)) if spec['reps'] > 1 else first
    return dict(seconds=secs, first_seconds=first, peak_bytes=mem, pairs=len(prefs),
                tensor_bytes=sum(t.numel() * t.element_size() for t in (prefs.i, prefs.j, prefs.cls, prefs.weight)))

def in_subprocess(spec:dict, env:dict) -> dict:
    "Run `prefs_worker(spec)` in a fresh Python process so its peak memory is its own."
    r = subprocess.run([sys.executable, __file__, '--worker', json.dumps(spec)], capture_output=True, text=True, env=env)
    if r.returncode: raise RuntimeError(f"worker {spec} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])

def mem_available() -> int:
    for line in Path('/proc/meminfo').read_text().splitlines():
        if line.startswith('MemAvailable:'): return int(line.split()[1]) * 1024
    return 2**62

def bench_prefs(cfg, env) -> list[dict]:
    rows, seed_secs = [], {}
    for n in cfg.seed_ns:
        probs = weak_probs(n)
        pairs, iters = same_class_pair_count(probs)
        need = 2 * pairs * (D_SEED * 4 + 200)  # the list of diff tensors (+ ~200 B of object each) and the stacked copy
        sub, note, cap = None, '', cfg.seed_mem_gb * 2**30 if cfg.seed_mem_gb else 0.6 * mem_available()
        if need > cap:  # would not fit: run the first rows only (about half the cap), extrapolate by inner-loop iterations
            sub = max(1, int(n * cap / need / 2))
            sub_pairs, sub_iters = same_class_pair_count(probs, sub)
        r = in_subprocess(dict(impl='seed', n=n, rows=sub, threads=cfg.threads), env)
        if sub:
            scale = iters / sub_iters
            r.update(seconds=r['seconds'] * scale, peak_bytes=r['peak_bytes'] * pairs / max(sub_pairs, 1), pairs=pairs)
            note = f' EXTRAPOLATED from first {sub} of {n} rows (time x{scale:.1f} by loop iterations, memory by pairs)'
        seed_secs[n] = r['seconds']
        rows.append(dict(section='1 prefs', case=f'n={n} seed loop+diffs ({r["pairs"]:,} x {D_SEED}-d){note}',
                         time_s=r['seconds'], peak_bytes=r['peak_bytes'], **_raw(r, n=n, impl='seed', extrapolated=bool(sub))))
    for n in cfg.our_ns:
        cases = [('same_class', None if n <= 3000 else cfg.big_budget), ('cross_class', cfg.big_budget)]
        if n == 3000: cases.insert(1, ('same_class', 20_000))  # the budget `fit_prefs` uses by default
        for impl, budget in cases:
            r = in_subprocess(dict(impl=impl, n=n, budget=budget, reps=cfg.reps, threads=cfg.threads), env)
            like_for_like = impl == 'same_class' and budget is None and n in seed_secs  # the seed's output: all same-class pairs
            ratio = seed_secs[n] / r['seconds'] if impl == 'same_class' and n in seed_secs else None
            target = f'>=1000x {verdict(ratio >= 1000)}' if like_for_like and n == 3000 else ''
            rows.append(dict(section='1 prefs', case=f'n={n} ours {impl} ({r["pairs"]:,} pairs, budget={f"{budget:,}" if budget else "all"})',
                             time_s=r['seconds'], peak_bytes=r['peak_bytes'], ratio=ratio, target=target,
                             **_raw(r, n=n, impl=impl, budget=budget)))
    return rows

def _raw(r:dict, **kw) -> dict: return dict(raw={**kw, **r})

# ------------------------------------------------------------------------------ 2. probe training

def legacy_fit(x, t, lr, wd, seed, epochs, bs=100):
    """The per-fit trainer this package used before the batched one (commit cd316c0's `train_probe`, cross-entropy, Adam): one
    `LinearProbe`, `torch.optim.Adam` with a `LambdaLR` cosine schedule, the L2 penalty added to the loss, the epoch's training loss
    accumulated, one Python loop per fit, one thread on the CPU (its 'auto' setting for these sizes)."""
    from w2s_prefs.probes import LinearProbe, soft_cross_entropy, cosine_factor, cpu_threads
    with cpu_threads(1 if x.device.type == 'cpu' else None):
        g = torch.Generator().manual_seed(seed)
        probe = LinearProbe.from_data(x, t.shape[1], seed=g)
        xs, head, history = (x - probe.mean) / probe.std, probe.linear, []
        opt = torch.optim.Adam(probe.parameters(), lr=lr)
        total = epochs * -(-len(x) // bs)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: cosine_factor(s, total))
        for epoch in range(epochs):
            perm = torch.randperm(len(x), generator=g).to(x.device)
            tot = torch.zeros((), device=x.device)
            for i in range(0, len(x), bs):
                idx = perm[i:i + bs]
                l = soft_cross_entropy(head(xs.index_select(0, idx)), t.index_select(0, idx))
                l2 = 0.5 * wd * head.weight.pow(2).sum() if wd else 0.
                opt.zero_grad(); (l + l2).backward(); opt.step(); sched.step()
                tot += l.detach() * len(idx)
            history.append(dict(epoch=epoch, train_loss=tot.item() / len(x)))
    return probe.eval(), history

GRID = [dict(lr=a, weight_decay=b) for a in (1e-3, 1e-2) for b in (0., 1e-2)]   # the naive methods' grid in the offline default

def bench_training(cfg) -> list[dict]:
    """A: one naive method's fits as the offline default's `--retrain` trains them: selection (4 configurations x 5 seeds on 80% of
    each seed's pool) and the final fits (the chosen configuration on each seed's whole pool), previous per-fit trainer against
    `train_heads` (two calls, as `experiment.fit_method` makes them); on the CPU one thread, as in each of the CLI's training processes
    (one per core). B: the other losses, `train_heads` one head at a time against all heads stacked."""
    from w2s_prefs.probes import train_heads, loss_knobs
    import w2s_prefs.pref_probe   # registers the preference losses
    n_pool, d, ep, S = cfg.train_n, 1280, cfg.train_epochs, cfg.train_seeds
    n_fit = int(round(.8 * n_pool))
    devices = ['cpu'] + (['cuda'] if torch.cuda.is_available() else [])
    rows = []
    for dev in devices:
        sync = torch.cuda.synchronize if dev == 'cuda' else (lambda: None)
        threads = 1 if dev == 'cpu' else None
        pool = torch.stack([features(n_pool, d, seed=s) for s in range(S)]).to(dev)
        soft = torch.stack([weak_probs(n_pool, seed=s) for s in range(S)]).to(dev)
        x, t = pool[:, :n_fit], soft[:, :n_fit]
        sel = [dict(c, seed=s, data=s) for s in range(S) for c in GRID]
        final = [dict(GRID[s % len(GRID)], seed=s, data=s) for s in range(S)]
        fits = [(x, h) for h in sel] + [(pool, h) for h in final]
        train_heads(x[:1, :200], t[:1, :200], sel[:2], epochs=1); sync()   # warm-up
        def legacy(): return [legacy_fit(xx[h['data']], (soft if xx is pool else t)[h['data']], h['lr'], h['weight_decay'], h['seed'], ep)
                              for xx, h in fits]
        def stacked(): return (train_heads(x, t, sel, epochs=ep, threads=threads), train_heads(pool, soft, final, epochs=ep, threads=threads))
        times = dict(legacy=[], stacked=[])
        for _ in range(cfg.reps_train):   # interleaved, best of each: fair under a varying background load
            times['legacy'].append(best_time(legacy, 1, sync)); times['stacked'].append(best_time(stacked, 1, sync))
        s_legacy, s_stacked = min(times['legacy']), min(times['stacked'])
        same = (legacy_fit(x[0], t[0], sel[0]['lr'], sel[0]['weight_decay'], sel[0]['seed'], ep)[0].linear.weight.T
                - stacked()[0][0].probe(0).linear.weight.T).abs().max().item()   # the same fit: equal up to float rounding
        n_ex = (len(sel) * n_fit + len(final) * n_pool) * ep
        what = f'{len(sel)} selection fits (n={n_fit}) + {len(final)} final fits (n={n_pool}), d={d}, {ep} ep'
        rows.append(dict(section='2 train', case=f'{dev} A ce: previous per-fit trainer, {len(fits)} fits one after another ({what})',
                         time_s=s_legacy, rate=fmt_rate(n_ex / s_legacy, 'ex'), raw=dict(device=dev, case='legacy', fits=len(fits), seconds=times['legacy'])))
        ratio = s_legacy / s_stacked
        rows.append(dict(section='2 train', case=f'{dev} A ce: train_heads, {len(sel)} + {len(final)} heads stacked (2 calls)',
                         time_s=s_stacked, rate=fmt_rate(n_ex / s_stacked, 'ex'), ratio=ratio,
                         target=f'>=3x {verdict(ratio >= 3)}, aim 5x (vs previous trainer)',
                         raw=dict(device=dev, case='stacked', heads=len(fits), seconds=times['stacked'], speedup=ratio, max_abs_weight_diff=same)))
        rows.append(dict(section='2 train', case=f'{dev} A check: first head, previous trainer vs stacked, max |weight difference| {same:.1e}',
                         target=f'same fit (< 1e-5) {verdict(same < 1e-5)}'))
        e2 = cfg.train_epochs_b
        for loss in ('ce', 'aux_conf_balanced', 'prefs_within'):
            heads = [dict(h, **{k: v for k, v in dict(aux_max=.5, within=.5).items() if k in loss_knobs(loss)}) for h in sel]   # the knobs it has
            per_fit = best_time(lambda: [train_heads(x[h['data']], t[h['data']], [dict(h, data=0)], loss=loss, epochs=e2, threads=threads)
                                         for h in heads], 1, sync)
            batched = best_time(lambda: train_heads(x, t, heads, loss=loss, epochs=e2, threads=threads), 1, sync)
            rows.append(dict(section='2 train', case=f'{dev} B {loss}: train_heads one head at a time ({len(heads)} calls, n={n_fit}, {e2} ep)',
                             time_s=per_fit, rate=fmt_rate(len(heads) * n_fit * e2 / per_fit, 'ex'),
                             raw=dict(device=dev, loss=loss, case='per_head', heads=len(heads), seconds=per_fit)))
            rows.append(dict(section='2 train', case=f'{dev} B {loss}: train_heads, all {len(heads)} heads stacked', time_s=batched,
                             rate=fmt_rate(len(heads) * n_fit * e2 / batched, 'ex'), ratio=per_fit / batched, target='vs one head at a time',
                             raw=dict(device=dev, loss=loss, case='batched', heads=len(heads), seconds=batched, speedup=per_fit / batched)))
    if 'cuda' not in devices:
        rows.append(dict(section='2 train', case='cuda: torch.cuda.is_available() is False (no GPU lent), GPU rows skipped'))
    return rows

# --------------------------------------------------------------------------- 3. embedding extraction

def bench_extraction(cfg) -> list[dict]:
    from w2s_prefs.data import get_dataset
    from w2s_prefs.models import get_strong, effnet_lite, extract, choose_device, CONV_LAYOUT
    from w2s_prefs.embed import embed
    from w2s_prefs.config import OFFLINE_DEFAULT
    dev, bs, n = choose_device(), OFFLINE_DEFAULT['extract_batch_size'], cfg.n_images
    sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)
    data = get_dataset('fashion_mnist', 'train')
    strong = get_strong('effnet_lite0', image_size=64).to(dev)
    idx = torch.arange(n)
    batches = torch.stack([strong.transform(data.ds[i][0]) for i in range(n)]).split(bs)  # decoded + transformed once

    weak_view = get_strong('effnet_lite0', image_size=32).to(dev)   # the weak supervisor's featurizer on the offline default
    small = torch.stack([weak_view.transform(data.ds[i][0]) for i in range(n)]).split(bs)

    def forward(layout, model=strong, xs=batches):
        model.to(memory_format=layout)
        with torch.inference_mode():
            for b in xs: model(b.to(dev, memory_format=layout)).cpu()
    bare, bare_nchw = lambda: forward(CONV_LAYOUT), lambda: forward(torch.contiguous_format)
    kept, weak_kept = (effnet_lite(0, image_size=s, fold_bn=False).to(dev) for s in (64, 32))   # batch norms not folded: extract until session 19
    bare_kept = lambda: forward(CONV_LAYOUT, kept)
    with torch.inference_mode():
        b0 = batches[0].to(dev, memory_format=CONV_LAYOUT)
        ref, fb = kept.to(memory_format=CONV_LAYOUT)(b0), strong.to(memory_format=CONV_LAYOUT)(b0)
    fold_diff, fold_scale = (fb - ref).abs().max().item(), ref.abs().max().item()
    small_cl, small_nchw = lambda: forward(CONV_LAYOUT, weak_view, small), lambda: forward(torch.contiguous_format, weak_view, small)
    with tempfile.TemporaryDirectory() as tmp:
        nw = cfg.extract_workers
        pipeline = lambda: embed(data, idx, None, strong, cache_dir=tmp, batch_size=bs, device=dev, num_workers=nw,
                                 progress=False, verbose=False, use_cache=False)
        loader = lambda: extract(data, idx, [strong], batch_size=bs, device=dev, num_workers=nw, progress=False)
        both = lambda b, ms=(strong, weak_view): extract(data, idx, list(ms), batch_size=b, device=dev, num_workers=nw, progress=False)[0]
        bare()  # warm-up
        t = interleaved_best(dict(bare=bare, bare_nchw=bare_nchw, bare_kept=bare_kept, small_cl=small_cl, small_nchw=small_nchw, embed=pipeline, extract=loader,
                                  both=lambda: both(bs), both_256=lambda: both(256), both_kept=lambda: both(bs, (kept, weak_kept))), cfg.reps_extract, sync)
        same = all(torch.equal(a, b) for a, b in zip(both(bs), both(256)))   # the batch size must not move a feature
    ratio = t['embed'] / t['bare']
    return [dict(section='3 extract', case=f'{dev.type} bare forward effnet_lite0 64px, batch norms folded ({n} pre-transformed imgs, bs {bs}), {CONV_LAYOUT}',
                 time_s=t['bare'], rate=fmt_rate(n / t['bare'], 'img')),
            dict(section='3 extract', case='  the same forward in NCHW (torch.contiguous_format): the layout models.extract no longer uses',
                 time_s=t['bare_nchw'], rate=fmt_rate(n / t['bare_nchw'], 'img'), ratio=t['bare_nchw'] / t['bare']),
            dict(section='3 extract', case=f'  the same forward with every batch norm kept (fold_bn=False, what extract ran until session 19): ratio against the first row; '
                                            f'max |feature change| {fold_diff:.1e} of max |feature| {fold_scale:.1f}',
                 time_s=t['bare_kept'], rate=fmt_rate(n / t['bare_kept'], 'img'), ratio=t['bare_kept'] / t['bare'],
                 raw=dict(case='batchnorm_kept', seconds=t['bare_kept'], slowdown=t['bare_kept'] / t['bare'], max_abs_change=fold_diff, max_abs=fold_scale)),
            dict(section='3 extract', case=f'  effnet_lite0 32px (the weak featurizer), {CONV_LAYOUT}', time_s=t['small_cl'], rate=fmt_rate(n / t['small_cl'], 'img')),
            dict(section='3 extract', case='  effnet_lite0 32px in NCHW: ratio against the row above', time_s=t['small_nchw'],
                 rate=fmt_rate(n / t['small_nchw'], 'img'), ratio=t['small_nchw'] / t['small_cl']),
            dict(section='3 extract', case=f'  models.extract (decode + transform + forward), {cfg.extract_workers} DataLoader workers',
                 time_s=t['extract'],
                 rate=fmt_rate(n / t['extract'], 'img'), ratio=t['extract'] / t['bare']),
            dict(section='3 extract', case=f'  models.extract of both models (the default: student 64px + weak featurizer 32px), bs {bs}',
                 time_s=t['both'], rate=fmt_rate(n / t['both'], 'img')),
            dict(section='3 extract', case=f'  the same at bs 256 (the previous default): ratio against bs {bs}; features bit for bit equal: {same}',
                 time_s=t['both_256'], rate=fmt_rate(n / t['both_256'], 'img'), ratio=t['both_256'] / t['both'],
                 target=f'equal features {verdict(same)}'),
            dict(section='3 extract', case=f'  the same two models with their batch norms kept (until session 19): ratio against bs {bs} folded',
                 time_s=t['both_kept'], rate=fmt_rate(n / t['both_kept'], 'img'), ratio=t['both_kept'] / t['both']),
            dict(section='3 extract', case='  embed.embed (extract + cache write), cold cache', time_s=t['embed'],
                 rate=fmt_rate(n / t['embed'], 'img'), ratio=ratio, target=f'<=1.3x {verdict(ratio <= 1.3)}',
                 raw=dict(device=dev.type, n=n, batch_size=bs, num_workers=cfg.extract_workers, seconds=t, img_per_s={k: n / v for k, v in t.items()}))]

# ---------------------------------------------------------------------------------- 5. text extraction

def bench_text_extraction(cfg) -> list[dict]:
    "Section 5: text embeddings (all-MiniLM-L6-v2 on Rotten Tomatoes) through `embed` against the bare encoder forward pass."
    from w2s_prefs.data import get_dataset
    from w2s_prefs.models import get_strong, choose_device
    from w2s_prefs.embed import embed
    from w2s_prefs.text import _minilm_path
    from sentence_transformers import SentenceTransformer
    dev, bs, n = choose_device(), 256, cfg.n_texts
    sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)
    data = get_dataset('rotten_tomatoes', 'train', download=True)
    enc = get_strong('minilm').to(dev)
    idx = torch.arange(n)
    order = data.extract_order(idx)   # the same length-sorted batches as `extract`, tokenised once, outside the timing
    tok = enc.net.tokenizer
    batches = [tok([data.texts[int(i)] for i in order[s:s + bs]], padding=True, truncation=True, max_length=enc.net.max_length,
                   return_tensors='pt') for s in range(0, n, bs)]
    st = SentenceTransformer(str(_minilm_path()), device=str(dev))
    texts = [data.texts[i] for i in range(n)]

    def bare():
        with torch.inference_mode():
            for b in batches: enc.net.model(**b.to(dev)).last_hidden_state.cpu()
    with tempfile.TemporaryDirectory() as tmp:
        pipeline = lambda: embed(data, idx, None, enc, cache_dir=tmp, batch_size=bs, device=dev, progress=False, verbose=False, use_cache=False)
        st_encode = lambda: st.encode(texts, batch_size=bs)
        bare()  # warm-up
        t = interleaved_best(dict(bare=bare, embed=pipeline, st=st_encode), cfg.reps_extract, sync)
    ratio = t['embed'] / t['bare']
    return [dict(section='5 text', case=f'{dev.type} bare forward minilm ({n} pre-tokenised length-sorted texts, bs {bs})',
                 time_s=t['bare'], rate=fmt_rate(n / t['bare'], 'text')),
            dict(section='5 text', case='  sentence-transformers encode (reference)', time_s=t['st'], rate=fmt_rate(n / t['st'], 'text'),
                 ratio=t['st'] / t['bare']),
            dict(section='5 text', case='  embed.embed (tokenise + forward + pool + cache write), cold cache', time_s=t['embed'],
                 rate=fmt_rate(n / t['embed'], 'text'), ratio=ratio, target=f'<=1.3x {verdict(ratio <= 1.3)}',
                 raw=dict(device=dev.type, n=n, batch_size=bs, seconds=t, texts_per_s={k: n / v for k, v in t.items()}))]

# ------------------------------------------------------------------------------ 7. generation and DPO

def bench_dpo(cfg) -> list[dict]:
    "Section 7: sampling and DPO training tokens/s of the policy against its bare forward pass on the same sequences."
    from w2s_prefs import dpo
    from w2s_prefs.data import default_data_root
    from w2s_prefs.text import rotten_tomatoes
    from w2s_prefs.models import choose_device
    dev = choose_device()
    sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)
    test = rotten_tomatoes('test', default_data_root(), download=True)
    name = 'tiny-gpt2' if cfg.quick else 'smollm2'
    pol = dpo.load_policy(name, download=True, texts=test.texts[:500])
    pol.model.to(dev)
    prompts, new, bs = dpo.review_prompts(test)[:cfg.dpo_prompts], cfg.dpo_new_tokens, 8
    comps = dpo.sample(pol, prompts, 2, new, seed=0, batch_size=16)
    pairs = [dict(prompt=p, chosen=c[0], rejected=c[1]) for p, c in zip(prompts, comps)]
    tok = pol.tokenizer
    seqs = [p + c for p, cc in zip(prompts, comps) for c in cc]   # what DPO forwards: chosen and rejected sequences
    batches = [tok(seqs[i:i + 2 * bs], return_tensors='pt', padding=True).to(dev) for i in range(0, len(seqs), 2 * bs)]
    n_tok = sum(int(b['attention_mask'].sum()) for b in batches)
    def bare():
        with torch.inference_mode():
            for b in batches: pol.model(**b).logits.sum().item()
    def bare_train():
        for b in batches: pol.model(**b).logits.float().logsumexp(-1).mean().backward()
        pol.model.zero_grad(set_to_none=True)
    bare()
    t = interleaved_best(dict(bare=bare, bare_train=bare_train), cfg.reps_dpo, sync)
    ts = time.perf_counter(); dpo.sample(pol, prompts, 2, new, seed=1, batch_size=16); sync(); t_batched = time.perf_counter() - ts
    k = max(1, len(prompts) // 8)
    ts = time.perf_counter(); dpo.sample(pol, prompts[:k], 1, new, seed=1, batch_size=1); sync(); t_single = time.perf_counter() - ts
    ts = time.perf_counter(); _, log = dpo.train_dpo(pol, pairs, seed=0, epochs=1, batch_size=bs); sync(); t_dpo = time.perf_counter() - ts
    fwd = n_tok / t['bare']
    rate = lambda r: fmt_rate(r, 'tok')
    gen_b, gen_1, tr_b, tr_d = 2 * len(prompts) * new / t_batched, k * new / t_single, n_tok / t['bare_train'], n_tok / t_dpo
    raw = dict(model=name, device=dev.type, prompts=len(prompts), new_tokens=new, tokens=n_tok, seconds=dict(t, sample_batched=t_batched,
               sample_unbatched=t_single, dpo=t_dpo), tokens_per_s=dict(forward=fwd, forward_backward=tr_b, sample_batched=gen_b,
               sample_unbatched=gen_1, dpo=tr_d), dpo_steps=len(log))
    return [dict(section='7 dpo', case=f'{dev.type} {name} bare forward ({len(seqs)} prompt+completion sequences, bs {2 * bs})',
                 time_s=t['bare'], rate=rate(fwd)),
            dict(section='7 dpo', case='  bare forward+backward (same batches)', time_s=t['bare_train'], rate=rate(tr_b), ratio=tr_b / fwd),
            dict(section='7 dpo', case=f'  dpo.sample batched (16 sequences per generate, {new} new tokens)', time_s=t_batched,
                 rate=rate(gen_b), ratio=gen_b / fwd),
            dict(section='7 dpo', case=f'  dpo.sample unbatched ({k} prompts)', time_s=t_single, rate=rate(gen_1), ratio=gen_1 / fwd),
            dict(section='7 dpo', case=f'  dpo.train_dpo (TRL DPOTrainer, {len(pairs)} pairs, 1 epoch, bs {bs}, incl. setup)', time_s=t_dpo,
                 rate=rate(tr_d), ratio=tr_d / fwd, raw=raw)]

# --------------------------------------------------------------------------- 8. reward-model features

def bench_reward_features(cfg) -> list[dict]:
    "Section 8: the reward experiment's strong features of preference-set texts through `embed` against the bare forward pass."
    from w2s_prefs.reward import get_prefset, strong_encoder, REWARD_DEFAULTS
    from w2s_prefs.embed import embed
    from w2s_prefs.models import choose_device
    dev, bs, n = choose_device(), 64, cfg.n_reward_texts
    sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)
    name = 'minilm' if cfg.quick else REWARD_DEFAULTS['strong']
    data = get_prefset(REWARD_DEFAULTS['prefset'], 'train', download=True).items()
    enc = strong_encoder(name, download=True).to(dev)
    idx = torch.arange(n)
    net, order = enc.net, data.extract_order(idx)   # the same length-sorted batches as `extract`, tokenised once, outside the timing
    batches = [net.tokenizer([data.texts[int(i)] for i in order[s:s + bs]], padding=True, truncation=True, max_length=net.max_length,
                             return_tensors='pt') for s in range(0, n, bs)]
    n_tok = sum(int(b['attention_mask'].sum()) for b in batches)
    def bare():
        with torch.inference_mode():
            for b in batches: net.model(**b.to(dev)).last_hidden_state.cpu()
    with tempfile.TemporaryDirectory() as tmp:
        pipeline = lambda: embed(data, idx, None, enc, cache_dir=tmp, batch_size=bs, device=dev, progress=False, verbose=False, use_cache=False)
        bare()  # warm-up
        t = interleaved_best(dict(bare=bare, embed=pipeline), cfg.reps_extract, sync)
    ratio, rate = t['embed'] / t['bare'], lambda s: fmt_rate(n_tok / s, 'tok')
    return [dict(section='8 reward', case=f'{dev.type} bare forward {name} ({n} pre-tokenised length-sorted texts, {n_tok:,} tokens, bs {bs})',
                 time_s=t['bare'], rate=rate(t['bare'])),
            dict(section='8 reward', case='  embed.embed (tokenise + forward + pool + cache write), cold cache', time_s=t['embed'],
                 rate=rate(t['embed']), ratio=ratio, target=f'<=1.3x {verdict(ratio <= 1.3)}',
                 raw=dict(model=name, device=dev.type, n=n, tokens=n_tok, batch_size=bs, seconds=t, tokens_per_s={k: n_tok / v for k, v in t.items()}))]

# ------------------------------------------------------------------------------ 6. arithmetic throughput

def mm_gflops(n:int, dev:str, reps:int, sync=lambda: None) -> tuple[float, float]:
    "(GFLOP/s, seconds) of the fastest of `reps` float32 `torch.mm` of two (n, n) matrices: 2 n^3 FLOPs each."
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(n, n, generator=g).to(dev), torch.randn(n, n, generator=g).to(dev)
    torch.mm(a, b); sync()   # warm-up (kernel selection, thread pool start)
    secs = best_time(lambda: torch.mm(a, b), reps, sync)
    return 2 * n ** 3 / secs / 1e9, secs

def train_heads_flops(heads:int, n:int, d:int, k:int, batch_size:int, epochs:int) -> int:
    """FLOPs of `train_heads`'s products over one call: per step and head, the logits `x W^T` (2 B d k) and the
    weight gradient `g^T x` (2 B d k), B the step's batch (an epoch's last may be short). The loss, the bias, the
    standardisation, the gathers and Adam's update (O(d k) per head and step) are not matrix products: not counted."""
    full, rest = divmod(n, batch_size)
    return epochs * heads * 4 * d * k * (full * batch_size + rest)

def bench_flops(cfg) -> list[dict]:
    """Section 6: the float32 matrix-multiply peak against the GFLOP/s `train_heads` achieves on section 2's selection
    call (the offline default's shapes: 4 configurations x 5 seeds, n = 3200, d = 1280, k = 10, batch 100,
    cross-entropy); on the CPU with one thread, as each of the CLI's training processes runs (the peak at every
    thread is printed too), and on CUDA."""
    from w2s_prefs.probes import train_heads, cpu_threads
    n_fit, d, S, bs, ep = int(round(.8 * cfg.train_n)), 1280, cfg.train_seeds, 100, cfg.flops_epochs
    rows = []
    for dev in ['cpu'] + (['cuda'] if torch.cuda.is_available() else []):
        sync = torch.cuda.synchronize if dev == 'cuda' else (lambda: None)
        threads, n_mm = (1, cfg.mm_n_cpu) if dev == 'cpu' else (None, cfg.mm_n_cuda)
        with cpu_threads(threads):
            peak, secs = mm_gflops(n_mm, dev, cfg.reps_mm, sync)
        where = f'{threads} thread' if dev == 'cpu' else torch.cuda.get_device_name(0)
        rows.append(dict(section='6 flops', case=f'{dev} peak: torch.mm {n_mm}x{n_mm} float32 ({where})', time_s=secs,
                         rate=f'{peak:.1f} GFLOP/s',
                         raw=dict(device=dev, case='mm_peak', n=n_mm, threads=threads, gflops=peak, seconds=secs)))
        if dev == 'cpu' and cfg.threads != 1:
            all_peak, all_secs = mm_gflops(n_mm, dev, cfg.reps_mm)
            rows.append(dict(section='6 flops', case=f'  cpu peak at {cfg.threads} threads (reference)',
                             time_s=all_secs, rate=f'{all_peak:.1f} GFLOP/s',
                             raw=dict(device=dev, case='mm_peak', n=n_mm, threads=cfg.threads, gflops=all_peak,
                                      seconds=all_secs)))
        x = torch.stack([features(n_fit, d, seed=s) for s in range(S)]).to(dev)
        t = torch.stack([weak_probs(n_fit, seed=s) for s in range(S)]).to(dev)
        heads = [dict(c, seed=s, data=s) for s in range(S) for c in GRID]
        train_heads(x[:1, :200], t[:1, :200], heads[:2], epochs=1, threads=threads); sync()   # warm-up
        secs = best_time(lambda: train_heads(x, t, heads, epochs=ep, batch_size=bs, threads=threads), cfg.reps_mm, sync)
        flops = train_heads_flops(len(heads), n_fit, d, K, bs, ep)
        achieved = flops / secs / 1e9
        what = f'{len(heads)} heads, n={n_fit}, d={d}, k={K}, batch {bs}, {ep} ep'
        rows.append(dict(section='6 flops', time_s=secs, rate=f'{achieved:.1f} GFLOP/s', ratio=achieved / peak,
                         case=f'  train_heads: {what} ({flops / 1e9:.1f} GFLOP: 4*B*d*k per head and step)',
                         target='achieved / mm peak (no target)',
                         raw=dict(device=dev, case='train_heads', heads=len(heads), n=n_fit, d=d, k=K, batch_size=bs,
                                  epochs=ep, threads=threads, flops=flops, seconds=secs, gflops=achieved,
                                  peak_gflops=peak, share_of_peak=achieved / peak)))
    return rows

# ------------------------------------------------------------------------------------- 9. pair losses

def _legacy_pairs(v, P=16):
    "(H, B, k) -> (H, B, P, k) partners by an index gather, as the losses had them before."
    B = v.shape[1]; P = max(0, min(P, B - 1))
    return v[:, (torch.arange(B)[:, None] + torch.arange(1, P + 1)[None]) % B]

def _legacy_bce(d, q): return torch.nn.functional.binary_cross_entropy_with_logits(d, q, reduction='none')

def legacy_bt_hard(logits, targets, knobs, frac):
    "The autograd form of `bt_hard` before session 15 (a faithful copy)."
    F, kn = torch.nn.functional, lambda n: knobs[n].view(-1, 1, 1, 1)
    gap = targets[:, :, None] - _legacy_pairs(targets)
    valid = (gap.abs() > kn('margin')).float()
    own = F.one_hot(targets.argmax(-1), targets.shape[-1]).float()
    both = own[:, :, None, :] * _legacy_pairs(own)
    valid = valid * torch.where(kn('same_class') > 0, both, torch.ones_like(both))
    w = valid * torch.where(kn('weighted') > 0, gap.abs(), torch.ones_like(gap))
    l = F.softplus(-gap.sign() * (logits[:, :, None] - _legacy_pairs(logits)))
    return (l * w).sum((1, 2, 3)) / w.sum((1, 2, 3)).clamp_min(1e-12)

def _legacy_target(p): return p[:, :, None] / (p[:, :, None] + _legacy_pairs(p)).clamp_min(1e-12)

def legacy_bt_soft(logits, targets, knobs, frac):
    "The autograd form of `bt_soft` before session 15."
    from w2s_prefs.probes import smoothed
    return _legacy_bce(logits[:, :, None] - _legacy_pairs(logits), _legacy_target(smoothed(targets, knobs))).mean((1, 2, 3))

def _legacy_shared(logits, targets, knobs, target_of=None):
    lam, k = knobs['within'], logits.shape[-1]
    ds = logits[..., :, None] - logits[..., None, :]
    qw = targets[..., :, None] / (targets[..., :, None] + targets[..., None, :]).clamp_min(1e-12)
    if target_of is not None: qw = target_of(qw, ds)
    within = (_legacy_bce(ds, qw) * (1 - torch.eye(k))).sum((1, 2, 3)) / (logits.shape[1] * k * (k - 1))
    dp, q = logits[:, :, None] - _legacy_pairs(logits), _legacy_target(targets)
    if target_of is not None: q = target_of(q, dp)
    return lam * within + (1 - lam) * _legacy_bce(dp, q).mean((1, 2, 3))

def legacy_prefs_within(logits, targets, knobs, frac):
    "The autograd form of `prefs_within` before session 15."
    return _legacy_shared(logits, targets, knobs)

def legacy_self_harden(logits, targets, knobs, frac):
    "The autograd form of `self_harden` before session 15."
    from w2s_prefs.probes import aux_alpha
    alpha = aux_alpha(frac, knobs['aux_max'], .2).view(-1, 1, 1, 1)
    return _legacy_shared(logits, targets, knobs, lambda q, ds: (1 - alpha) * q + alpha * (ds.detach() > 0).float())

def legacy_confdiff(logits, targets, knobs, frac):
    "The pairwise form of `confdiff` before session 15."
    F = torch.nn.functional
    prior, c = targets.mean(1, keepdim=True)[:, :, None], -(targets[:, :, None] - _legacy_pairs(targets))
    li, lj = F.softplus(-logits)[:, :, None], _legacy_pairs(F.softplus(-logits))
    ni, nj = F.softplus(logits)[:, :, None], _legacy_pairs(F.softplus(logits))
    parts = torch.stack([((prior - c) * li).mean((1, 2)), ((1 - prior + c) * ni).mean((1, 2)),
                         ((prior + c) * lj).mean((1, 2)), ((1 - prior - c) * nj).mean((1, 2))])
    fix = knobs['correct'].view(1, -1, 1) > 0
    return 0.5 * torch.where(fix, parts.clamp_min(0), parts).sum(0).mean(-1)

class LegacySlotAdam:
    "The update `train_heads` made before session 16 (the interface of `probes._SlotAdam`): `torch.optim.Adam`'s arithmetic written out, nine element-wise passes."
    def __init__(self, params, lr, betas=(.9, .999), eps=1e-8):
        self.params, self.lr, self.t = params, lr, 0
        self.grads, self.m, self.v = ([torch.zeros_like(p) for p in params] for _ in range(3))
    def step(self, factor=1.):
        self.t += 1
        size, bc2 = self.lr * factor / (1 - .9 ** self.t), 1 - .999 ** self.t
        for p, g, m, v in zip(self.params, self.grads, self.m, self.v):
            m.lerp_(g, .1); v.mul_(.999).addcmul_(g, g, value=.001)
            p.sub_(torch.div(m, v.sqrt().div_(math.sqrt(bc2)).add_(1e-8)).mul_(size.view(-1, *[1] * (p.ndim - 1))))

LEGACY_LOSSES = dict(bt_hard=legacy_bt_hard, bt_soft=legacy_bt_soft, prefs_within=legacy_prefs_within,
                     self_harden=legacy_self_harden, confdiff=legacy_confdiff)

def bench_pair_losses(cfg) -> list[dict]:
    """Section 9: one `train_heads` call on the offline default's selection heads (the shared grid of 6 learning-rate x weight-decay
    configurations x 2 values of each loss's knob, 5 seeds: 60 heads, n = 3200) per pairwise loss, its previous autograd form
    (`LEGACY_LOSSES`, registered under `legacy_<name>` with the same knobs) and cross-entropy; one thread, interleaved, best of each.
    Then the auxiliary-confidence losses, and every loss's declared step cost (`probes.Loss.cost`) next to its measured ratio."""
    from w2s_prefs.probes import train_heads, LOSSES, Loss, get_loss
    import w2s_prefs.pref_probe   # registers the current losses
    n_fit, d, S, ep = int(round(.8 * cfg.train_n)), 1280, cfg.train_seeds, cfg.loss_epochs
    x = torch.stack([features(n_fit, d, seed=s) for s in range(S)])
    t = torch.stack([weak_probs(n_fit, seed=s) for s in range(S)])
    knob = dict(bt_hard=dict(weighted=1, margin=[0., .1]), bt_soft=dict(smooth=[0., .1]), prefs_within=dict(within=[.5, .9]),
                self_harden=dict(within=.5, aux_max=[.5, .75]), confdiff=dict(correct=[0, 1]), ce=dict(smooth=[0., .1]),
                aux_conf=dict(aux_max=[.5, .75]), aux_conf_balanced=dict(aux_max=[.5, .75]))
    def heads(loss):
        fixed = {k: v for k, v in knob[loss].items() if not isinstance(v, list)}
        (name, values), = [(k, v) for k, v in knob[loss].items() if isinstance(v, list)]
        return [dict(lr=a, weight_decay=b, seed=s, data=s, **fixed, **{name: v}) for s in range(S)
                for a in (1e-3, 1e-2) for b in (0., 1e-2, 1e-1) for v in values]
    for name, fn in LEGACY_LOSSES.items(): LOSSES[f'legacy_{name}'] = Loss(f'legacy_{name}', fn, LOSSES[name].knobs)
    run = lambda loss, hs: (lambda: train_heads(x, t, hs, loss=loss, epochs=ep, threads=1))
    train_heads(x[:1, :200], t[:1, :200], heads('ce')[:2], epochs=1, threads=1)   # warm-up
    import w2s_prefs.probes as probes
    fused = probes._SlotAdam
    def legacy_update(fn):   # the same call with the previous Adam update
        def call():
            probes._SlotAdam = LegacySlotAdam
            try: return fn()
            finally: probes._SlotAdam = fused
        return call
    tm = interleaved_best(dict(ce=run('ce', heads('ce')), before=legacy_update(run('ce', heads('ce')))), cfg.reps_train)
    ce = tm['ce']
    same = (run('ce', heads('ce'))()[0].weight - legacy_update(run('ce', heads('ce')))()[0].weight).abs().max().item()   # the same fit
    what = f'{len(heads("ce"))} heads, n={n_fit}, d={d}, k={K}, batch 100, {ep} ep, 1 thread'
    rows = [dict(section='9 losses', case=f'ce: train_heads, {what}', time_s=ce, raw=dict(loss='ce', seconds=ce)),
            dict(section='9 losses', case=f'  ce with the previous (unfused) Adam update: {tm["before"] / ce:.2f}x the fused one; max |weight difference| {same:.1e}', time_s=tm['before'],
                 ratio=tm['before'] / ce, target='x a cross-entropy call', raw=dict(loss='ce', form='unfused adam', seconds=tm['before'], max_abs_weight_diff=same))]
    for name in LEGACY_LOSSES:
        hs = heads(name)
        tm = interleaved_best({'now': run(name, hs), 'before': run(f'legacy_{name}', hs)}, cfg.reps_train)
        rows.append(dict(section='9 losses', case=f'  {name}: its previous autograd form', time_s=tm['before'], ratio=tm['before'] / ce,
                         target='x a cross-entropy call', raw=dict(loss=name, form='before', seconds=tm['before'])))
        rows.append(dict(section='9 losses', case=f'  {name}: now ({tm["before"] / tm["now"]:.2f}x faster than before)', time_s=tm['now'],
                         ratio=tm['now'] / ce, target='x a cross-entropy call',
                         raw=dict(loss=name, form='now', seconds=tm['now'], speedup=tm['before'] / tm['now'], vs_ce=tm['now'] / ce)))
    for name in LEGACY_LOSSES: LOSSES.pop(f'legacy_{name}')
    for name in ('aux_conf', 'aux_conf_balanced'):   # the other losses that declare a step cost (no previous form to compare)
        tm = interleaved_best({'now': run(name, heads(name))}, cfg.reps_train)
        rows.append(dict(section='9 losses', case=f'  {name}', time_s=tm['now'], ratio=tm['now'] / ce, target='x a cross-entropy call',
                         raw=dict(loss=name, form='now', seconds=tm['now'], vs_ce=tm['now'] / ce)))
    costs = {r['raw']['loss']: r['raw']['vs_ce'] for r in rows if r['raw'].get('form') == 'now'}
    rows.append(dict(section='9 losses', case='  declared costs (`probes.Loss.cost`) against these ratios: ' + ', '.join(
        f"{n} {get_loss(n).cost:g} vs {v:.1f}" for n, v in costs.items())))
    return rows

# ------------------------------------------------------------------------------ 10. pair-list margins

def bench_pair_margins(cfg) -> list[dict]:
    """Section 10: the margin `s_i[c] - s_j[c]` of every pair for every student, and its weight gradient, as `pair_students` forms it
    (the pairs' row differences against all k classes of all students, one product, then a gather of each pair's class) and
    grouped by class (the pairs sorted by class, one product per class against that class's weights alone)."""
    F = torch.nn.functional
    n, d, C, m = cfg.train_n, 1280, 6, 100 * 16
    g = torch.Generator().manual_seed(0)
    xs, W = features(n, d), torch.randn(C, K, d, generator=g).requires_grad_()
    i, j, cls = torch.randint(n, (m,), generator=g), torch.randint(n, (m,), generator=g), torch.randint(K, (m,), generator=g)
    order, counts = cls.argsort(), torch.bincount(cls, minlength=K).tolist()
    def full():
        z = (xs[i] - xs[j]) @ W.reshape(C * K, d).T
        return z.reshape(m, C, K).gather(2, cls[:, None, None].expand(m, C, 1)).squeeze(2).T
    def grouped():
        diff = xs[i[order]] - xs[j[order]]
        return torch.cat([part @ W[:, c].T for c, part in enumerate(diff.split(counts))]).T
    def step(margins):
        def call():
            W.grad = None
            F.softplus(-margins()).sum().backward()
        return call
    gathered = lambda: xs[i] - xs[j]
    with torch.no_grad(): same = (full()[:, order] - grouped()).abs().max().item()
    from w2s_prefs.pair_sources import pair_students, GRID
    from w2s_prefs.prefs import weak_pairs, label_similar
    from w2s_prefs.pref_probe import PAIRS_PER_EXAMPLE
    p = weak_probs(n)
    fit = lambda **pairs: (lambda: pair_students(xs, p, recipes=[dict(r, epochs=1) for r in GRID], **pairs))
    whole = interleaved_best(dict(pointwise=fit(), prefs=fit(prefs=weak_pairs(p, n * PAIRS_PER_EXAMPLE)),
                                  similar=fit(similar=label_similar(p, n * PAIRS_PER_EXAMPLE))), cfg.reps_train)
    tm = interleaved_best(dict(full=step(full), grouped=step(grouped), gather=gathered), 5 * cfg.reps)
    what = f'{m} pairs, d={d}, k={K}, {C} students, 1 thread, forward + backward'
    fits = f'pair_students, the {len(GRID)} students of the grid side by side, n={n}, 1 epoch, 1 thread'
    return [dict(section='10 pairs', case=f'{fits}: the pointwise student (weak soft labels alone)', time_s=whole['pointwise'],
                 raw=dict(form='pointwise fit', seconds=whole['pointwise'])),
            dict(section='10 pairs', case='  the same plus class preferences (Bradley-Terry, weak_pairs)', time_s=whole['prefs'],
                 ratio=whole['prefs'] / whole['pointwise'], raw=dict(form='prefs fit', seconds=whole['prefs'])),
            dict(section='10 pairs', case='  the same plus same-class judgements (label_similar)', time_s=whole['similar'],
                 ratio=whole['similar'] / whole['pointwise'], raw=dict(form='similar fit', seconds=whole['similar'])),
            dict(section='10 pairs', case=f"pair_students' margins: every class, then a gather ({what})", time_s=tm['full'],
                 raw=dict(form='full', seconds=tm['full'])),
            dict(section='10 pairs', case=f'  grouped by class (k times fewer multiply-adds): ratio against the row above; max |margin difference| {same:.1e}',
                 time_s=tm['grouped'], ratio=tm['grouped'] / tm['full'], raw=dict(form='grouped', seconds=tm['grouped'], max_abs_diff=same)),
            dict(section='10 pairs', case='  of which the row differences x_i - x_j alone (both forms gather them)', time_s=tm['gather'],
                 ratio=tm['gather'] / tm['full'], raw=dict(form='gather', seconds=tm['gather']))]

# ----------------------------------------------------------------------------------- 4. end to end

def cli_command() -> list[str]:
    exe = shutil.which('w2s-prefs')
    return [exe] if exe else [sys.executable, '-c', 'from w2s_prefs.cli import main; main()']

def bench_e2e(cfg, env) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as out:
        cmd = cli_command() + ['--cache-dir', cache, '--out', out, '--no-progress', '--no-figures'] + shlex.split(cfg.e2e_args)
        # targets (issue 18): the offline default cold under 5 minutes, a rerun with nothing changed under 20 s
        for run, limit, extra in (('first run, cold cache', 300, []), ('cached rerun (embeddings and finished runs)', 20, []),
                                  ('rerun --retrain (embeddings cached, every fit trained again)', None, ['--retrain'])):
            t0 = time.perf_counter()
            r = subprocess.run(cmd + extra, capture_output=True, text=True, env=env)
            wall = time.perf_counter() - t0
            if r.returncode: raise RuntimeError(f"{shlex.join(cmd)} failed:\n{r.stderr[-3000:]}")
            res = json.loads((Path(out)/'results.json').read_text())
            tm = res['timings']
            fit_seconds = {m: sum(d.get('seconds') or []) for m, d in res['methods'].items()}  # final fits, all seeds (no tuning)
            target = ('(no target)' if limit is None else f'<{limit} s {verdict(wall < limit)}' if cfg.e2e_targets
                      else f'(<{limit} s: default config only)')
            other = tm['total_seconds'] - tm['load_seconds'] - tm['train_seconds']  # pair diagnostics, writing results
            rows.append(dict(section='4 e2e', case=f'{run}: load {tm["load_seconds"]:.1f} + train {tm["train_seconds"]:.1f} + other '
                             f'{other:.1f} = total {tm["total_seconds"]:.1f} s; Time = wall incl. imports', time_s=wall, target=target,
                             raw=dict(run=run, command=shlex.join(cmd), wall_seconds=wall, fit_seconds_per_method=fit_seconds, **tm)))
    return rows

# ----------------------------------------------------------------------------------------- driver

def environment(threads:int) -> dict:
    dev = torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'cpu (no CUDA)'
    import w2s_prefs
    return dict(python=platform.python_version(), torch=torch.__version__, w2s_prefs=w2s_prefs.__version__,
                torch_threads=threads, cpu_count=os.cpu_count(), device=dev, platform=platform.platform(),
                load_average=os.getloadavg())

def print_table(rows:list[dict]):
    cols = [('Section', lambda r: r['section']), ('Case', lambda r: r['case']),
            ('Time', lambda r: fmt_time(r.get('time_s'))), ('Peak mem', lambda r: fmt_bytes(r.get('peak_bytes'))),
            ('Rate', lambda r: r.get('rate', '-')),
            ('Ratio', lambda r: f"{r['ratio']:,.{0 if r['ratio'] >= 10 else 2 if r['ratio'] >= .1 else 3}f}x"
                                if r.get('ratio') else '-'),
            ('Target', lambda r: r.get('target') or '')]
    cells = [[name for name, _ in cols]] + [[f(r) for _, f in cols] for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(cols))]
    line = lambda c: '  '.join(s.ljust(w) for s, w in zip(c, widths)).rstrip()
    print(line(cells[0])); print('  '.join('-' * w for w in widths))
    prev = None
    for r, c in zip(rows, cells[1:]):
        if prev and r['section'] != prev: print()
        print(line(c)); prev = r['section']

def config(args) -> argparse.Namespace:
    q = args.quick
    return argparse.Namespace(
        threads=args.threads, quick=q, seed_mem_gb=args.seed_mem_gb, extract_workers=args.extract_workers,
        seed_ns=[300] if q else [500, 1000, 3000], our_ns=[300, 3000] if q else [500, 1000, 3000, 10_000, 50_000],
        big_budget=1_000_000, reps=2 if q else 5,
        train_n=1000 if q else 4000, train_epochs=1 if q else 20, train_epochs_b=1 if q else 5, train_seeds=2 if q else 5,
        reps_train=1 if q else 2,
        flops_epochs=1 if q else 2, loss_epochs=1 if q else 3, mm_n_cpu=512 if q else 2048, mm_n_cuda=2048 if q else 8192, reps_mm=2 if q else 3,
        n_images=128 if q else 1024, reps_extract=1 if q else 3, n_texts=256 if q else 2048,
        dpo_prompts=8 if q else 32, dpo_new_tokens=6 if q else 24, reps_dpo=1 if q else 2, n_reward_texts=128 if q else 512,
        e2e_args=args.e2e_args if args.e2e_args is not None else
                 ('--n-train 500 --n-test 500 --n-seeds 1 --methods weak_soft' if q else ''),
        e2e_targets=not q and not args.e2e_args)

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--quick', action='store_true', help='shrink every section (smoke test, < 60 s)')
    p.add_argument('--sections', nargs='+', type=int, default=[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], choices=[1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
                   help='which sections to run')
    p.add_argument('--threads', type=int, default=os.cpu_count(), help='torch intra-op CPU threads (also OMP_NUM_THREADS of subprocesses)')
    p.add_argument('--extract-workers', type=int, default=0, help='DataLoader worker processes in section 3 (as --num-workers of the CLI)')
    p.add_argument('--e2e-args', default=None, help="extra CLI options for section 4, e.g. '--n-train 1000 --n-seeds 2'")
    p.add_argument('--seed-mem-gb', type=float, default=None,
                   help="memory allowed to the seed's construction (default 60%% of MemAvailable); above it, time a subset of rows and extrapolate")
    p.add_argument('--out', default=str(HERE/'results.json'), help='JSON file for the numbers')
    p.add_argument('--worker', help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker: print(json.dumps(prefs_worker(json.loads(args.worker)))); return
    torch.set_num_threads(args.threads)
    cfg = config(args)
    env = {**os.environ, 'OMP_NUM_THREADS': str(args.threads), 'MKL_NUM_THREADS': str(args.threads)}
    info = environment(args.threads)
    print('environment: ' + ', '.join(f'{k}={v}' for k, v in info.items()), flush=True)
    sections = {1: lambda: bench_prefs(cfg, env), 2: lambda: bench_training(cfg), 3: lambda: bench_extraction(cfg),
                4: lambda: bench_e2e(cfg, env), 5: lambda: bench_text_extraction(cfg),
                6: lambda: bench_flops(cfg), 7: lambda: bench_dpo(cfg), 8: lambda: bench_reward_features(cfg),
                9: lambda: bench_pair_losses(cfg), 10: lambda: bench_pair_margins(cfg)}
    rows, t0 = [], time.perf_counter()
    for s in sorted(set(args.sections)):
        ts = time.perf_counter()
        rows += sections[s]()
        print(f'[bench] section {s} done in {time.perf_counter() - ts:.0f} s', file=sys.stderr, flush=True)
    info.update(load_average_end=os.getloadavg(), bench_seconds=time.perf_counter() - t0, quick=cfg.quick)
    print(f"\nw2s_prefs benchmarks{' (--quick: shrunken sizes, targets not meaningful)' if cfg.quick else ''}; "
          f"peak mem = peak RSS minus RSS just before the call, in a fresh subprocess (VmHWM reset via /proc/self/clear_refs)\n")
    print_table(rows)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(environment=info, rows=rows), indent=1, default=str))
    print(f'\nwrote {out} (benchmark output: do not commit it; benchmarks/.gitignore lists results.json)  '
          f'[{info["bench_seconds"]:.0f} s, load average {info["load_average"][0]:.2f} -> {info["load_average_end"][0]:.2f}]')

if __name__ == '__main__': main()
