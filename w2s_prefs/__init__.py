"""Weak-to-strong generalization with pairwise preferences: weak labels, strong embeddings, linear and Bradley-Terry probes, honest PGR.

Modules:

- `w2s_prefs.baselines`: Baselines in which the strong student cleans its own pool: iterated self-training (it relabels the pool with its own predictions and retrains) and co-supervised learning's top-k denoising (Liu & Alahi 2024); and bootstrap resamples of the pool, for an ensemble of student heads.
- `w2s_prefs.cleaning`: Label spreading (Zhou et al. 2004) and the cut statistic (Lang, Vijayaraghavan, Sontag 2022) on a kNN graph of the student's frozen embeddings: they take only `x` and `weak_probs`, and either smooth the weak soft labels or keep the subset whose weak labels their neighbours agree with.
- `w2s_prefs.cli`: One command runs one weak-to-strong experiment end to end: load (or extract and cache) the embeddings, train every method over several seeds, write `results.json` and `runs.csv`, print the table, then draw the figures.
- `w2s_prefs.config`: One experiment configuration: a typed, validated value that the command line, the sweep points, the runner and `results.json` all use. Options and help are generated from it and from the registries; nothing is typed twice.
- `w2s_prefs.equivalence`: Which preference losses have the weak soft labels as their optimum, why pairs built from one supervisor cannot hold information its soft labels lack, and an experiment on the synthetic task that shows the students converge.
- `w2s_prefs.experiment`: One weak-to-strong experiment: every seed draws its own data (the weak supervisor's ground-truth split, the pool and the test subset), every method is tuned and trained by the same protocol (`protocol`), and is compared with the references seed by seed; results are written to disk in a documented format.
- `w2s_prefs.methods`: The method table: what each weak-to-strong method trains with (a registered loss, its targets, its knobs), the grid it is tuned over, its family, and the only door through which ground truth reaches a student.
- `w2s_prefs.metrics`: One definition of accuracy and PGR used everywhere, the weak-to-strong diagnostics (agreement, corrected/corrupted, misfit vs gain, calibration, accuracy by weak confidence, pairwise accuracy of preferences), and confidence intervals over seeds.
- `w2s_prefs.pair_sources`: Pairs mined with the student's geometry (strong-space neighbours whose weak labels disagree), pairs weighted by the student-supervisor misfit, and a weak pairwise judge that sees both examples; each against its twin built from the weak soft labels alone and against the pointwise students; on the synthetic task.
- `w2s_prefs.pairs`: `w2s-prefs-pairs`: the pair sources of `pair_sources` on the offline default and every real setting of the suite under both protocols, their results file, the README's pairs block and the pool over settings.
- `w2s_prefs.protocol`: How one method is tuned and trained over all seeds: selection per seed on held-out *weak* labels over every configuration of its grid, the ground-truth oracle as a diagnostic, then the final fits on the whole pool.
- `w2s_prefs.regime`: Can a setting show weak-to-strong generalization at all? The copy rate, the random-error control and how well the strong features predict the weak supervisor's view, for every run.
- `w2s_prefs.runs`: Using every core and never training twice: a pool of worker processes that die with their parent, and a run cache whose entries are verified before they are trusted and whose failures never cost a result.
- `w2s_prefs.suite`: `w2s-prefs-suite` runs a fixed set of offline settings (three image, two text, the synthetic task) as points of one Ray sweep, and writes one suite table: every method's paired PGR difference against each setting's best pointwise baseline, under two protocols (weak-label selection and the fixed recipe), pooled across settings by a random-effects meta-analysis and a sign test.
- `w2s_prefs.supervisors`: Weak supervisors that see the data differently (other views, specialists on class subsets), their labels aggregated pointwise (mean soft labels, Dawid-Skene, co-supervised learning's assignment) or their comparisons aggregated with a reliability per supervisor learned without ground truth (Crowd-BT); on the synthetic task.
- `w2s_prefs.synthetic`: A task with a known answer: a linear teacher in the strong embedding space, a weak supervisor that sees a noisy low-dimensional view of it, and the baseline students (ceiling, naive hard/soft, auxiliary confidence) compared over seeds."""

__version__ = "0.0.1"

# Importing the package registers every loss (probes, pref_probe), data set (data, text), weak supervisor and student
# (models, text), cleaning step and method (methods, baselines): `import w2s_prefs` is enough to train or name any of them.
# First of all, before torch computes anything: the same CPU kernels on every x86 machine (`storage.pin_cpu_numerics`).
from .storage import pin_cpu_numerics  # noqa: E402
pin_cpu_numerics()
from . import probes, pref_probe, data, models, text, methods, baselines  # noqa: E402,F401
