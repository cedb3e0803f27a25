"""The packages a site's ``requirements.txt`` asks for, resolved and served to its server tab.

A browser tab cannot reach a package index (a server tab loads nothing from elsewhere at run
time), so the service resolves and fetches for it, and serves the files by their hash:

* :mod:`~signaling.packages.target`: the runtime as a resolver sees it (Python, ABI, tags);
* :mod:`~signaling.packages.index`: the indexes pip is configured with, read (no I/O in the
  parsing) with every byte counted;
* :mod:`~signaling.packages.metadata`: what a wheel or an sdist declares, fetched sparingly;
* :mod:`~signaling.packages.pyodide_dist`: Pyodide's own built packages, where offered;
* :mod:`~signaling.packages.resolver`: resolvelib, given the candidates a server tab can use;
* :mod:`~signaling.packages.store`: the files and answers kept, within a size bound;
* :mod:`~signaling.packages.fairness`: rate and queue per client address;
* :mod:`~signaling.packages.service`: all of it behind the service's HTTP endpoints.
"""
