"""The ``groundlink`` command line (Typer + Rich): an interface over the core.

One module per command group, plus the pieces they share:

* :mod:`~groundlink.cli.app`: the Typer application and :func:`~groundlink.cli.app.main`;
* :mod:`~groundlink.cli.passes`, :mod:`~groundlink.cli.elements`,
  :mod:`~groundlink.cli.stations`, :mod:`~groundlink.cli.doctor`,
  :mod:`~groundlink.cli.up`: the commands;
* :mod:`~groundlink.cli.edge`: where bad input becomes ``error: ...`` and exit code 2;
* :mod:`~groundlink.cli.prediction`: a pass prediction with a progress bar, its
  table and its summary (used by ``passes``);
*"""
