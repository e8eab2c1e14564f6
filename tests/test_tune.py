"""`mitbadak.tune`: the search space's distributions, random search on any executor (serial, a
process pool, a real two-worker Dask cluster on loopback) with the same results, failing
trials reported, an interrupted search keeping what it finished."""

import json
import math
import signal
import socket
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mitbadak import tune
from mitbadak.cli import main
from mitbadak.experiments import compute

SPACE = {"lr": tune.loguniform(1e-6, 1e-1), "x": tune.uniform(-1.0, 1.0),
         "layers": tune.randint(1, 4), "activation": tune.choice(["relu", "sigmoid"])}


def score(params):
    """A cheap objective, best at lr 1e-3, x 0.5, 2 layers of ReLU. At module level, so that
    worker processes can be sent it."""
    return (-(math.log10(params["lr"]) + 3) ** 2 - (params["x"] - 0.5) ** 2
            - abs(params["layers"] - 2) + (params["activation"] == "relu"))


def failing_score(params):
    if params["layers"] == 3:
        raise ValueError(f"no room for {params['layers']} layers\n(second line)")
    return score(params)


def serial(objective, trials, **options):
    return tune.random_search(objective, SPACE, trials, tune.SerialExecutor(), **options)


def outcome(search):
    """What must not depend on the executor: every trial, and which one is best."""
    return [(t.index, t.params, t.value, t.error) for t in search.trials], search.best.index


@given(st.floats(1e-9, 1e3), st.floats(1.5, 1e4), st.integers(0, 2**31), st.integers(0, 99))
def test_samples_fall_in_their_ranges(low, ratio, seed, index):
    space = {"log": tune.loguniform(low, low * ratio), "u": tune.uniform(-low, low),
             "n": tune.randint(-3, 3), "c": tune.choice("abc")}
    params = tune.sample(space, seed, index)
    assert low <= params["log"] <= low * ratio and -low <= params["u"] <= low
    assert -3 <= params["n"] < 3 and params["c"] in "abc"
    assert tune.sample(space, seed, index) == params  # (seed, index) alone decides


def test_loguniform_gives_each_order_of_magnitude_the_same_share():
    draws = [tune.sample({"lr": tune.loguniform(1e-6, 1e-2)}, 0, i)["lr"] for i in range(4000)]
    shares = np.histogram(np.log10(draws), bins=4, range=(-6, -2))[0] / len(draws)
    np.testing.assert_allclose(shares, 0.25, atol=0.03)
    assert {tune.sample({"n": tune.randint(0, 3)}, 0, i)["n"] for i in range(100)} == {0, 1, 2}


def test_bad_distributions_spaces_and_counts_are_refused():
    for make in (lambda: tune.loguniform(0, 1), lambda: tune.uniform(1, 1),
                 lambda: tune.randint(2, 1), lambda: tune.choice([])):
        with pytest.raises(ValueError):
            make()
    with pytest.raises(TypeError, match=r"space\['lr'\] is a float, not a distribution"):
        tune.random_search(score, {"lr": 0.1}, 2)
    with pytest.raises(ValueError, match="trials must be a positive integer"):
        serial(score, 0)


def test_serial_search_returns_trials_in_order_with_the_best():
    search = serial(score, 30)
    assert [t.index for t in search.trials] == list(range(30)) and not search.interrupted
    assert search.best.value == max(t.value for t in search.trials)
    assert search.best.params == tune.sample(SPACE, 0, search.best.index)
    lowest = serial(lambda p: -score(p), 30, mode="min").best
    assert lowest.index == search.best.index
    assert outcome(serial(score, 30, seed=1)) != outcome(search)


def test_ties_go_to_the_first_trial_and_nan_never_wins():
    values = iter([1.0, float("nan"), 3.0, 3.0, 2.0])
    assert serial(lambda p: next(values), 5).best.index == 2
    assert serial(lambda p: float("nan"), 2).best is None


def test_a_failing_trial_is_reported_in_one_line_and_the_others_kept():
    search = serial(failing_score, 20)
    assert len(search.trials) == 20 and search.failed
    for trial in search.failed:
        assert trial.params["layers"] == 3 and trial.value is None
        assert trial.error == "ValueError: no room for 3 layers (second line)"
    assert search.best.params["layers"] != 3
    mapping = serial(lambda p: {"loss": 1.0}, 1, metric="accuracy").trials[0]
    assert mapping.error == "the objective's result has no number under 'accuracy'"


def test_results_are_written_as_json(tmp_path):
    out = tmp_path / "search.json"
    search = serial(failing_score, 6, out=out)
    saved = json.loads(out.read_text())
    assert saved["finished"] == 6 and saved["best"] == search.best.index
    assert [t["params"] for t in saved["trials"]] == [t.params for t in search.trials]
    assert not saved["interrupted"] and not list(tmp_path.glob(".*"))


def test_an_interrupt_in_a_trial_keeps_the_finished_ones(tmp_path, capsys):
    calls = iter(range(100))

    def objective(params):
        if next(calls) == 4:
            raise KeyboardInterrupt
        return score(params)

    out = tmp_path / "search.json"
    search = serial(objective, 10, out=out)
    assert search.interrupted and [t.index for t in search.trials] == [0, 1, 2, 3]
    assert json.loads(out.read_text())["interrupted"] is True
    assert "interrupted: 4 of 10 trials finished" in capsys.readouterr().err


def test_ctrl_c_while_waiting_cancels_the_rest_and_keeps_the_finished():
    release = threading.Event()
    slow = tune.sample(SPACE, 0, 3)

    def objective(params):
        if params == slow:
            release.wait(10)  # trial 3 is still running when Ctrl-C comes
        return score(params)

    ctrl_c = threading.Timer(0.5, signal.pthread_kill, (threading.main_thread().ident,
                                                        signal.SIGINT))
    with ThreadPoolExecutor(1) as pool:
        ctrl_c.start()
        try:
            search = tune.random_search(objective, SPACE, 50, pool)
        finally:
            ctrl_c.cancel()
            release.set()
    assert search.interrupted and [t.index for t in search.trials] == [0, 1, 2]


def test_a_process_pool_by_default_gives_the_serial_results():
    assert outcome(tune.random_search(score, SPACE, 8)) == outcome(serial(score, 8))


def test_a_missing_distributed_is_one_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(tune.SchedulerError, match=r"pip install 'mitbadak\[cluster\]'"):
        with tune.dask_executor("tcp://127.0.0.1:8786"):
            pass


@pytest.fixture(scope="module")
def cluster():
    """A real Dask cluster of two worker processes, on loopback only."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as local:
        yield local.scheduler_address


def test_dask_gives_the_serial_results_for_100_trials(cluster):
    with tune.dask_executor(cluster) as executor:
        small = tune.random_search(score, SPACE, 10, executor)
        search = tune.random_search(score, SPACE, 100, executor)
    assert outcome(small) == outcome(serial(score, 10))
    assert outcome(search) == outcome(serial(score, 100))


def test_dask_reports_failing_trials(cluster):
    with tune.dask_executor(cluster) as executor:
        search = tune.random_search(failing_score, SPACE, 20, executor)
    assert outcome(search) == outcome(serial(failing_score, 20))
    assert search.failed[0].error == "ValueError: no room for 3 layers (second line)"


def test_the_lesson_on_dask_gives_its_serial_results(cluster, tmp_path):
    assert main(["experiment", "hyperparams", "--quick", "--dataset", "digits", "--trials", "2",
                 "--scheduler", cluster, "--out", str(tmp_path)]) == 0
    on_dask = json.loads((tmp_path / "hyperparams.json").read_text())["result"]
    here = compute("hyperparams", quick=True, dataset="digits", trials=2, workers=1)
    assert on_dask["scheduler"] == cluster and on_dask["trials"] == here["trials"]


def test_an_unreachable_scheduler_is_one_line_and_exit_2(monkeypatch, tmp_path, capsys):
    pytest.importorskip("distributed")
    with socket.socket() as free:  # a port nobody listens on
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    monkeypatch.setattr(tune, "CONNECT_TIMEOUT", 1.0)
    assert main(["experiment", "hyperparams", "--quick", "--dataset", "digits",
                 "--scheduler", f"tcp://127.0.0.1:{port}", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("mitbadak experiment: error: cannot reach the Dask scheduler at "
                          f"tcp://127.0.0.1:{port}") and len(err.splitlines()) == 1
