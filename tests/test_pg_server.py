"""The throwaway PostgreSQL server of :mod:`pg_server`, and what Optuna's RDB storage does with it.

One server serves the module (about a second to ``initdb`` and start); each test that writes gets its own database.
The tests skip when PostgreSQL's server binaries are missing (``make postgresql`` installs them).

An unreachable URL (a port nobody listens on) makes ``optuna.storages.RDBStorage(url)`` raise
``sqlalchemy.exc.OperationalError`` at once (Optuna 5.0, SQLAlchemy 2.1, psycopg 3.3), wrapping
``psycopg.OperationalError`` (its ``.orig``) whose message begins ``connection failed: connection to server at
"127.0.0.1", port N failed: Connection refused``; Optuna neither wraps nor retries it.
"""

from __future__ import annotations

import os

import psycopg
import pytest
import sqlalchemy

from pg_server import PostgresNotFound, PostgresServer, free_port, postgres_fixture

postgres = pytest.fixture(scope="module")(postgres_fixture)


def test_server_runs_privately(postgres):
    assert postgres.url == f"postgresql+psycopg://fcnbook@127.0.0.1:{postgres.port}/postgres"
    # The unix socket lives in the server's own folder, not /var/run/postgresql.
    assert (postgres.root / f".s.PGSQL.{postgres.port}").exists()
    with psycopg.connect(postgres.dsn) as conn:
        assert conn.execute("select current_user, current_setting('fsync')").fetchone() == ("fcnbook", "off")
        # Trust authentication and the superuser that initdb made: no password anywhere.
        assert conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone() == (True,)


def scalar(url: str, sql: str):
    """One value of ``sql`` through SQLAlchemy on ``url`` (the engine disposed of afterwards)."""
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sqlalchemy.text(sql)).scalar_one()
    finally:
        engine.dispose()


def test_sqlalchemy_selects_one(postgres):
    assert scalar(postgres.url, "select 1") == 1


def test_databases_are_independent(postgres):
    first, second = postgres.create_database("independent_a"), postgres.create_database("independent_b")
    assert first.endswith("/independent_a") and second.endswith("/independent_b")
    with psycopg.connect(postgres.dsn_for("independent_a")) as conn:
        conn.execute("create table t (x int)")
        conn.execute("insert into t values (7)")
    with psycopg.connect(postgres.dsn_for("independent_b")) as conn:
        exists = conn.execute("select to_regclass('public.t') is not null").fetchone()[0]
        assert not exists
    assert scalar(first, "select x from t") == 7


def test_create_database_rejects_names_a_url_would_mangle(postgres):
    with pytest.raises(ValueError, match="letters, digits and underscores"):
        postgres.create_database("test_x[1-2]")


def test_optuna_rdb_storage_on_the_server(postgres):
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.RDBStorage(postgres.create_database("optuna_roundtrip"))
    try:
        study = optuna.create_study(study_name="s", storage=storage, sampler=optuna.samplers.RandomSampler(seed=0))
        study.optimize(lambda trial: trial.suggest_float("x", -1, 1) ** 2, n_trials=3)
        assert len(optuna.load_study(study_name="s", storage=storage).trials) == 3
    finally:
        storage.remove_session()
        storage.engine.dispose()


def test_unreachable_url_raises_operational_error():
    optuna = pytest.importorskip("optuna")
    url = f"postgresql+psycopg://fcnbook@127.0.0.1:{free_port()}/postgres"  # bound and released: nobody listens
    with pytest.raises(sqlalchemy.exc.OperationalError) as info:
        optuna.storages.RDBStorage(url)
    assert isinstance(info.value.orig, psycopg.OperationalError)
    assert "Connection refused" in str(info.value)


def test_stop_removes_the_folder_and_the_server():
    try:
        server = PostgresServer(user="someone")
    except PostgresNotFound as e:
        pytest.skip(str(e))
    root, dsn = server.root, server.dsn
    assert server.url.startswith("postgresql+psycopg://someone@127.0.0.1:")
    if os.geteuid() == 0:
        # Root cannot run PostgreSQL: the folder, and so the server, belong to the system user.
        assert root.stat().st_uid != 0
    server.stop()
    assert not root.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(dsn, connect_timeout=2)
    server.stop()  # a second stop is harmless


def test_missing_binaries_say_how_to_install(tmp_path):
    with pytest.raises(PostgresNotFound, match=r"install Debian's postgresql package \(make postgresql\)"):
        PostgresServer(bindir=tmp_path)
