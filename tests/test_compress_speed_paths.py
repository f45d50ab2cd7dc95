"""Feedback in nx.compress (#17 item 7): a tqdm bar over the long loops of the slow methods, shown once a
call has run PROGRESS_DELAY_S, never with progress=False; the bar never changes a result."""

import numpy as np
import pytest

import numerics as nx
from numerics.compress import base

CASES = [("qtip", {}, "qtip column blocks"), ("quip#", {}, "quip# column blocks"), ("gptq", {}, "column blocks"),
         ("aqlm", {"iters": 2}, "aqlm iterations")]


def _w(m=32, n=32):
    return np.random.default_rng(1).standard_normal((m, n))


@pytest.mark.parametrize("method, opts, desc", CASES, ids=[c[0] for c in CASES])
def test_progress_bar_shows_and_changes_nothing(method, opts, desc, capsys, monkeypatch):
    w = _w()
    h = w.T @ w
    quiet = nx.compress(w, method, hessian=h, progress=False, **opts)
    assert desc not in capsys.readouterr().err
    monkeypatch.setattr(base, "PROGRESS_DELAY_S", 0.0)
    shown = nx.compress(w, method, hessian=h, **opts)
    assert desc in capsys.readouterr().err
    assert np.array_equal(quiet.decode(), shown.decode())
    for name, part in quiet.parts.items():
        assert np.array_equal(part.data, shown.parts[name].data)


def test_no_bar_outside_compress(capsys, monkeypatch):
    monkeypatch.setattr(base, "PROGRESS_DELAY_S", 0.0)
    assert list(base.steps(range(3), 3, "x")) == [0, 1, 2]
    assert "x" not in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["yes", 1, None])
def test_progress_must_be_bool(bad):
    with pytest.raises(TypeError, match="progress must be True or False"):
        nx.compress(_w(), "rtn", progress=bad)
