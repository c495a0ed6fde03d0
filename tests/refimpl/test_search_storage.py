"""``python -m refimpl search --storage``: shared studies on SQLite and on a real PostgreSQL server.

Each test runs the real command in subprocesses and then reads Optuna's tables with plain SQL,
so what is checked is what the database holds, not what Optuna's API reports. The objective is
tiny (100 training images, a few epochs); the kill and Ctrl-C tests use long trials (200
epochs) so that a trial is surely running when the signal arrives.

The PostgreSQL server is started once for this module (see ``tests/refimpl/postgres.py``);
all tests share one pytest-xdist group, so they run on one test worker, one after another.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..processes import sigint_as_in_a_terminal
from .postgres import ServerUnavailable, start_postgres

pytestmark = pytest.mark.xdist_group("search-storage")

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--searcher", "random", "--n-train", "100", "--quiet"]
LONG_TRIALS = ["--max-epochs", "200", "--heartbeat", "1", "--grace", "2"]


@pytest.fixture(scope="module")
def postgres_server():
    """A throw-away server; skipped with the reason where none can start, failed under CI."""
    try:
        server = start_postgres()
    except ServerUnavailable as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the PostgreSQL test server did not start: {error}")
        pytest.skip(f"the PostgreSQL test server did not start: {error}")
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def storage(request, tmp_path) -> str:
    """The URL of an empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/study.db"
    server = request.getfixturevalue("postgres_server")
    name = re.sub(r"\W", "_", request.node.name).lower()[:60]
    _sql(server.url, f"CREATE DATABASE {name}", autocommit=True)
    return server.url.rsplit("/", 1)[0] + f"/{name}"


# -- helpers ----------------------------------------------------------------------------------


def _sql(url: str, query: str, autocommit: bool = False) -> list[tuple]:
    import sqlalchemy

    options = {"isolation_level": "AUTOCOMMIT"} if autocommit else {}
    engine = sqlalchemy.create_engine(url, **options)
    try:
        with engine.connect() as connection:
            result = connection.execute(sqlalchemy.text(query))
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def db_trials(url: str, study: str) -> dict[int, dict]:
    """Every trial of ``study``, read from Optuna's tables: ``{number: trial}``.

    Each trial is a dict with ``state``, ``params`` ({name: value}), ``value``, ``steps``
    (the epochs of its intermediate values), ``system`` and ``user`` (attributes, decoded).
    Raises if a trial number occurs twice.
    """
    where = f"study_id = (SELECT study_id FROM studies WHERE study_name = '{study}')"
    trials: dict[int, dict] = {}
    ids = {}
    for trial_id, number, state in _sql(
        url, f"SELECT trial_id, number, state FROM trials WHERE {where}"
    ):
        assert number not in trials, f"trial number {number} occurs twice"
        trials[number] = {"state": state, "params": {}, "value": None, "steps": [],
                          "system": {}, "user": {}}  # fmt: skip
        ids[trial_id] = trials[number]
    in_study = f"trial_id IN (SELECT trial_id FROM trials WHERE {where})"
    for trial_id, name, value in _sql(
        url, f"SELECT trial_id, param_name, param_value FROM trial_params WHERE {in_study}"
    ):
        ids[trial_id]["params"][name] = value
    for trial_id, value in _sql(url, f"SELECT trial_id, value FROM trial_values WHERE {in_study}"):
        ids[trial_id]["value"] = value
    for trial_id, step in _sql(
        url, f"SELECT trial_id, step FROM trial_intermediate_values WHERE {in_study} ORDER BY step"
    ):
        ids[trial_id]["steps"].append(step)
    for table, key in (("trial_system_attributes", "system"), ("trial_user_attributes", "user")):
        for trial_id, name, value in _sql(
            url, f"SELECT trial_id, key, value_json FROM {table} WHERE {in_study}"
        ):
            ids[trial_id][key][name] = json.loads(value)
    return trials


def _env() -> dict[str, str]:
    return {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def search_command(url: str, study: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "refimpl", "search", "--storage", url, "--study", study,
            *TINY, *args]  # fmt: skip


def search(capsys, url: str, study: str, *args: str) -> tuple[int, str, str]:
    """Run the command in this process (workers are still processes of their own).

    Returns
    -------
    code : int
    out, err : str
        What it printed.
    """
    from refimpl.__main__ import main

    capsys.readouterr()
    code = main(search_command(url, study, *args)[3:])
    out, err = capsys.readouterr()
    return code, out, err


def wait_for_running(url: str, study: str, n: int = 1, timeout: float = 120) -> dict[int, dict]:
    """Poll until ``n`` trials are running and have reported an epoch; those trials."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            trials = db_trials(url, study)
        except Exception:  # the tables do not exist yet
            trials = {}
        running = {k: t for k, t in trials.items() if t["state"] == "RUNNING" and t["steps"]}
        if len(running) >= n:
            # db_trials reads the params before the steps, in separate queries: a trial seen with
            # a step may have been read with only some of its params. All are suggested before
            # the first epoch, so a second read, begun after that step was seen, has them all.
            again = db_trials(url, study)
            return {k: again[k] for k in running}
        time.sleep(0.05)
    raise AssertionError(f"no {n} running trials within {timeout} s")


def complete(trials: dict[int, dict]) -> dict[int, dict]:
    return {k: t for k, t in trials.items() if t["state"] == "COMPLETE"}


# -- many workers -----------------------------------------------------------------------------


def test_four_workers_fill_one_study(storage, capsys):
    code, out, err = search(capsys, storage, "four", "--workers", "4", "--trials", "8",
                            "--max-epochs", "3")  # fmt: skip
    assert code == 0, err
    trials = db_trials(storage, "four")
    finished = complete(trials)
    # at least the requested 8; workers that start their last trial together may add up to 3
    assert 8 <= len(finished) <= 8 + 3
    # numbers are 0, 1, ..., n-1: none duplicated (db_trials checks), none missing
    assert sorted(trials) == list(range(len(trials)))
    assert {t["state"] for t in trials.values()} == {"COMPLETE"}  # no pruner, nothing died
    for trial in finished.values():
        assert set(trial["params"]) == {"lr", "weight_decay"}
        assert 1e-4 <= trial["params"]["lr"] <= 1.0
        assert 1e-6 <= trial["params"]["weight_decay"] <= 1e-2
        assert trial["steps"] == [1, 2, 3]  # every epoch's validation accuracy was reported
        assert 0.0 <= trial["value"] <= 1.0
    # the work was done by worker processes, not by the command that started them
    workers = {t["user"]["worker"] for t in trials.values()}
    assert 1 <= len(workers) <= 4 and not any(w.endswith(f":{os.getpid()}") for w in workers)
    # the report names the study's place and its best trial, as the database has it
    best = max(finished, key=lambda k: (finished[k]["value"], -k))
    assert f"storage: {storage}" in out and "workers: 4" in out
    assert f"best trial: #{best}" in out
    assert f"{len(finished)} completed" in out


# -- crashes ----------------------------------------------------------------------------------


def test_killed_worker_trial_is_failed_and_retried(storage, capsys):
    args = ["--trials", "2", *LONG_TRIALS]
    victim = subprocess.Popen(
        search_command(storage, "kill", *args),
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        (number, killed), *_ = wait_for_running(storage, "kill").items()
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
    finally:
        victim.kill()
    assert db_trials(storage, "kill")[number]["state"] == "RUNNING"  # stuck: nobody is left

    code, _, err = search(capsys, storage, "kill", *args)  # another worker, the same command
    assert code == 0, err
    trials = db_trials(storage, "kill")
    assert trials[number]["state"] == "FAIL"  # the heartbeat stopped: marked failed
    retries = [t for t in trials.values() if t["system"].get("failed_trial") == number]
    assert len(retries) == 1
    assert retries[0]["params"] == killed["params"]  # the same configuration, run again
    assert retries[0]["state"] == "COMPLETE" and retries[0]["steps"] == list(range(1, 201))
    assert len(complete(trials)) >= 2
    assert all(t["state"] in ("COMPLETE", "FAIL") for t in trials.values())


def test_ctrl_c_leaves_the_study_consistent_and_the_same_command_resumes(storage, capsys):
    args = ["--trials", "3", *LONG_TRIALS, "--workers", "2"]
    command = search_command(storage, "interrupt", *args)
    parent = subprocess.Popen(
        command, cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=sigint_as_in_a_terminal,
    )  # fmt: skip
    try:
        wait_for_running(storage, "interrupt", n=2)  # both workers are inside a trial
        parent.send_signal(signal.SIGINT)  # what Ctrl-C in the terminal sends
        _, err = parent.communicate(timeout=120)
    finally:
        parent.kill()
    assert parent.returncode == 130
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("search: interrupted;")
    trials = db_trials(storage, "interrupt")
    assert "RUNNING" not in {t["state"] for t in trials.values()}  # nothing left hanging
    assert sum(t["state"] == "FAIL" for t in trials.values()) >= 2

    code, _, err = search(capsys, storage, "interrupt", *args)
    assert code == 0, err
    trials = db_trials(storage, "interrupt")
    assert 3 <= len(complete(trials)) <= 4
    assert "RUNNING" not in {t["state"] for t in trials.values()}


# -- bad input: one line, no traceback --------------------------------------------------------


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when this returns


def test_an_unreachable_database_is_one_line_without_traceback(tmp_path):
    url = f"postgresql://postgres:secret@127.0.0.1:{_closed_port()}/optuna"
    done = subprocess.run(
        [sys.executable, "-m", "refimpl", "search", "--storage", url],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=_env(),
    )  # fmt: skip
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("search: error: cannot reach the database postgresql://")
    assert "secret" not in done.stderr  # the password is not printed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--storage", "sqlite:////nonexistent-folder/study.db"],
         "cannot reach the database sqlite:////nonexistent-folder/study.db"),
        (["--storage", "mysql://db-host/optuna"], "the scheme 'mysql' is not supported"),
        (["--storage", "study.db"], "is not a database URL"),
        (["--storage", "sqlite://"], "an in-memory SQLite database cannot be shared"),
        (["--workers", "0"], "--workers must be at least 1, got 0"),
        (["--workers", "2"], "--workers 2 needs --storage"),
        (["--storage", "sqlite:///s.db", "--searcher", "grid"], "--storage works with"),
        (["--storage", "sqlite:///s.db", "--heartbeat", "5", "--grace", "5"],
         "the grace period (5 s) must be longer than the heartbeat interval (5 s)"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line(args, message, tmp_path, monkeypatch, capsys):
    from refimpl.__main__ import main

    monkeypatch.chdir(tmp_path)
    assert main(["search", *args]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1, err
    assert err.startswith("search: error: ") and message in err


def test_a_study_with_another_direction_is_refused(storage, capsys):
    import optuna

    from refimpl.__main__ import main

    optuna.create_study(storage=storage, study_name="minimizing", direction="minimize")
    capsys.readouterr()
    code = main(["search", "--storage", storage, "--study", "minimizing", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "study 'minimizing'" in err and "exists with direction minimize" in err
    assert db_trials(storage, "minimizing") == {}  # no trial was started


def test_a_study_resumed_with_other_settings_is_refused(storage, capsys):
    from refimpl.__main__ import main

    first = ["search", "--storage", storage, "--study", "s", *TINY, "--trials", "1"]
    assert main([*first, "--max-epochs", "1"]) == 0
    capsys.readouterr()
    assert main([*first, "--max-epochs", "2"]) == 2
    err = capsys.readouterr().err
    assert "was started with max_epochs = 1, not 2" in err and err.count("\n") == 1
