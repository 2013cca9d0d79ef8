"""The validation grid: hundreds of models fitted by this package and by lme4.

* ``simulate.py`` writes the simulated hard designs (``data/*.csv.gz``, fixed seeds);
* ``frames.py`` builds every data frame a model uses (bundled data sets, derived columns,
  simulated designs);
* ``models.py`` is the single list of models; it writes ``spec.json``;
* ``export.py`` writes those frames for R (exact hexadecimal doubles);
* ``fit_lme4.R`` fits every model with several lme4 optimizers; ``regenerate.py`` runs
  the whole chain and freezes ``reference/*.json``;
* ``rule.py`` is the comparison rule, ``run.py`` the runner that writes the results table.

See README.md in this folder.
"""
