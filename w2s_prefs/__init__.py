"""Weak-to-strong generalization with pairwise preferences: weak labels, strong embeddings, linear and Bradley-Terry probes, honest PGR.

Modules:

- `w2s_prefs.cleaning`: Label spreading (Zhou et al. 2004) and the cut statistic (Lang, Vijayaraghavan, Sontag 2022) on a kNN graph of the student's frozen embeddings: they take only `x` and `weak_probs`, and either smooth the weak soft labels or keep the subset whose weak labels their neighbours agree with.
- `w2s_prefs.metrics`: One definition of accuracy and PGR used everywhere, the weak-to-strong diagnostics (agreement, corrected/corrupted, misfit vs gain, calibration, accuracy by weak confidence, pairwise accuracy of preferences), and confidence intervals over seeds.
- `w2s_prefs.synthetic`: A task with a known answer: a linear teacher in the strong embedding space, a weak supervisor that sees a noisy low-dimensional view of it, and the baseline students (ceiling, naive hard/soft, auxiliary confidence) compared over seeds."""

__version__ = "0.0.1"
