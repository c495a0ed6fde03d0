"""Optuna studies in a database: the URL checked, heartbeats on, the trials of dead workers retried.

A study that several processes share lives in Optuna's RDB storage (`optuna.storages.RDBStorage`):
a SQLite file for processes on one machine, a PostgreSQL server for processes on several.
`open_storage` turns on Optuna's heartbeat: every running trial writes a timestamp every
``heartbeat_interval`` seconds, and a trial whose timestamp is older than ``grace_period`` seconds
belongs to a dead worker. The next worker that starts a trial (or waits for one, see
`refimpl.search.workers`) marks it ``FAIL``, and `optuna.storages.RetryHeartbeatStaleTrialCallback`
(called ``RetryFailedTrialCallback`` before Optuna 4.9) queues its configuration again as a
``WAITING`` trial, which the next trial to start takes over.

Everything that can go wrong before the first trial (a URL of another database, a server that
does not answer, a study that minimizes, a study started with other settings) raises
`StudyError` with a one-line message; the command line prints it without a traceback.
"""

from __future__ import annotations

import warnings
from typing import Any

__all__ = [
    "SCHEMES",
    "StudyError",
    "check_settings",
    "check_url",
    "describe",
    "open_storage",
    "open_study",
]

#: Database backends a shared study may live in: one machine, several machines.
SCHEMES = ("sqlite", "postgresql")


class StudyError(ValueError):
    """Bad ``--storage``/``--study`` input; the message is one line that names the problem."""


def _first_line(error: BaseException) -> str:
    """The first non-empty line of an exception's message (drivers add hints on later lines)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def check_url(url: str):
    """Parse ``url`` and check that it names a SQLite file or a PostgreSQL database.

    Returns
    -------
    sqlalchemy.engine.URL

    Examples
    --------
    >>> check_url("postgresql://optuna:secret@db-host:5432/optuna").get_backend_name()
    'postgresql'
    >>> check_url("mysql://db-host/optuna")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    refimpl.search.storage.StudyError: --storage mysql://db-host/optuna: the scheme 'mysql' is ...
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    hint = "use sqlite:///FILE (one machine) or postgresql://USER@HOST/DB (several machines)"
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StudyError(f"--storage {url!r} is not a database URL; {hint}") from None
    backend = parsed.get_backend_name()
    if backend not in SCHEMES:
        raise StudyError(
            f"--storage {describe(url)}: the scheme {parsed.drivername!r} is not supported; {hint}"
        )
    if backend == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise StudyError(
            f"--storage {url}: an in-memory SQLite database cannot be shared; "
            "give a file, e.g. sqlite:///study.db"
        )
    return parsed


def describe(url: str) -> str:
    """``url`` with its password hidden, for messages.

    Examples
    --------
    >>> describe("postgresql://optuna:secret@db-host/optuna")
    'postgresql://optuna:***@db-host/optuna'
    """
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL at all: nothing to hide
        return url


def _engine_kwargs(backend: str) -> dict[str, Any]:
    """Wait up to 30 s for a SQLite write lock; give up on a silent PostgreSQL host after 10 s."""
    if backend == "sqlite":
        return {"connect_args": {"timeout": 30}}
    return {"connect_args": {"connect_timeout": 10}, "pool_pre_ping": True}


def open_storage(
    url: str, heartbeat_interval: int = 10, grace_period: int = 30, max_retry: int = 3
):
    """Connect to the study database, with heartbeats and retries of stale trials.

    Parameters
    ----------
    url : str
        ``sqlite:///FILE`` or ``postgresql://USER[:PASSWORD]@HOST[:PORT]/DB``.
    heartbeat_interval : int, default 10
        Seconds between two heartbeats of a running trial.
    grace_period : int, default 30
        Seconds without a heartbeat after which a running trial counts as dead; must be longer
        than ``heartbeat_interval``.
    max_retry : int, default 3
        How many times the configuration of a dead trial is queued again.

    Returns
    -------
    optuna.storages.RDBStorage

    Raises
    ------
    StudyError
        A URL of another kind, a missing driver, or a database that cannot be reached.
    """
    import optuna
    from sqlalchemy.exc import SQLAlchemyError

    backend = check_url(url).get_backend_name()
    if not 0 < heartbeat_interval < grace_period:
        raise StudyError(
            f"the grace period ({grace_period} s) must be longer than the heartbeat interval "
            f"({heartbeat_interval} s), which must be at least 1 s"
        )
    try:
        with warnings.catch_warnings():  # heartbeats are "experimental" since Optuna 2.9
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            storage = optuna.storages.RDBStorage(
                url,
                engine_kwargs=_engine_kwargs(backend),
                heartbeat_interval=heartbeat_interval,
                grace_period=grace_period,
                heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                    max_retry=max_retry
                ),
            )
        if backend == "sqlite":
            _write_ahead_log(storage.engine)
    except ImportError:
        raise StudyError(
            f"--storage {describe(url)}: the database driver is missing "
            "(PostgreSQL needs psycopg: pip install 'psycopg[binary]')"
        ) from None
    except SQLAlchemyError as error:
        reason = _first_line(getattr(error, "orig", None) or error)
        raise StudyError(f"cannot reach the database {describe(url)}: {reason}") from None
    return storage


def _write_ahead_log(engine) -> None:
    """Put a SQLite file in write-ahead-log mode: readers no longer block writers.

    In SQLite's default mode a heartbeat that reads while another process commits can fail at
    once with "database is locked", whatever the timeout; the heartbeat thread then dies and a
    live trial would look dead. The mode is stored in the file, so the first process sets it.
    """
    from sqlalchemy.exc import OperationalError

    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")
    except OperationalError:  # another process holds the file: it has set the mode already
        pass


def open_study(storage, name: str, sampler=None, pruner=None):
    """Create the study ``name`` (maximizing), or load it if it exists.

    Raises
    ------
    StudyError
        The study exists and minimizes, or has several objectives.
    """
    import optuna

    study = optuna.create_study(
        storage=storage,
        study_name=name,
        load_if_exists=True,
        direction="maximize",
        sampler=sampler,
        pruner=pruner,
    )
    if study.directions != [optuna.study.StudyDirection.MAXIMIZE]:
        directions = ", ".join(d.name.lower() for d in study.directions)
        raise StudyError(
            f"study {name!r} in {describe(storage.url)} exists with direction {directions}; "
            "this search maximizes the validation accuracy: choose another --study"
        )
    return study


def check_settings(study, settings: dict[str, Any]) -> None:
    """Record ``settings`` on a new study; on an existing one, refuse settings that differ.

    A study resumed with another space or epoch budget would mix trials that cannot be compared.

    Raises
    ------
    StudyError
        Names the first setting that differs, with the study's value and the one given.
    """
    recorded = study.user_attrs.get("settings")
    if recorded is None:
        study.set_user_attr("settings", settings)
        return
    for key, value in settings.items():
        if recorded.get(key) != value:
            raise StudyError(
                f"study {study.study_name!r} was started with {key} = {recorded.get(key)!r}, "
                f"not {value!r}: resume it with the same settings or choose another --study"
            )
