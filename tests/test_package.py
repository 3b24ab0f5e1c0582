"""The package face: what importing it costs, and what it exports."""

from __future__ import annotations

import subprocess
import sys

import pbrain_widgets


def test_import_leaves_widgets_and_dask_for_first_use():
    code = (
        "import sys, pbrain_widgets\n"
        "from pbrain_widgets import Engine, FunctionRunner\n"
        "print(sorted(m for m in ('anywidget', 'ipywidgets', 'distributed', 'pbrain_widgets.widgets')"
        " if m in sys.modules))\n"
        "pbrain_widgets.JobMonitor\n"
        "print('anywidget' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["[]", "True"]


def test_every_name_in_all_resolves():
    for name in pbrain_widgets.__all__:
        assert getattr(pbrain_widgets, name) is not None, name
