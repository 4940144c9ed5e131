"""A throwaway PostgreSQL server for the tests.

:class:`PostgresServer` runs ``initdb`` into a temporary folder and starts a private ``postgres`` on 127.0.0.1 and a
free port, with trust authentication, its unix socket inside that folder and durability switched off (``fsync``,
``synchronous_commit``, ``full_page_writes``), so it starts in about a second and leaves nothing behind:
:meth:`PostgresServer.stop` kills it (``pg_ctl stop -m immediate``) and removes the folder.

PostgreSQL refuses to run as root, and CI runs the suite as root. There the server runs as the ``postgres`` system
user that Debian's ``postgresql`` package creates (``nobody`` where it is absent): the temporary folder is given to
that user, and ``initdb``, ``pg_ctl`` and so the server itself are started with that uid and gid (``subprocess``'s
``user=``/``group=``, which set them in the child before exec; no ``runuser``/PAM involved). As any other user the
server runs as that user.

A test file uses it through a module-scoped fixture of its own (``tests/conftest.py`` defines none), built from
:func:`postgres_fixture`, and a fresh database per test so that tests do not see each other's tables::

    import pytest

    from pg_server import postgres_fixture

    postgres = pytest.fixture(scope="module")(postgres_fixture)

    def test_something(postgres, request):
        url = postgres.create_database(request.node.name)  # postgresql+psycopg://fcnbook@127.0.0.1:PORT/test_something
        ...
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["PostgresNotFound", "PostgresServer", "find_bindir", "free_port", "postgres_fixture"]

MISSING = "PostgreSQL server binaries not found: install Debian's postgresql package (make postgresql)"


class PostgresNotFound(RuntimeError):
    """No PostgreSQL server binaries (``initdb``, ``pg_ctl``, ``postgres``) on this machine."""


def find_bindir() -> Path:
    """Return the folder holding PostgreSQL's server binaries.

    ``pg_config --bindir`` wins when ``pg_config`` is on ``PATH`` and its folder has ``initdb`` (Debian's
    ``pg_config`` may come from ``libpq-dev`` alone, without a server); otherwise the newest
    ``/usr/lib/postgresql/<version>/bin``, where Debian installs the server off ``PATH``.

    Returns
    -------
    Path
        A folder with ``initdb`` and ``pg_ctl``.

    Raises
    ------
    PostgresNotFound
        When no such folder exists.
    """
    candidates = []
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip():
            candidates.append(Path(out.stdout.strip()))

    def version(path: str) -> tuple[int, ...]:
        # Numeric, so that 9.6 < 10 < 15 (a string sort would put 9.6 last).
        return tuple(int(n) for n in re.findall(r"\d+", Path(path).parent.name))

    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)]
    for bindir in candidates:
        if _has_server(bindir):
            return bindir
    raise PostgresNotFound(MISSING)


def _has_server(bindir: Path) -> bool:
    return all(os.access(bindir / exe, os.X_OK) for exe in ("initdb", "pg_ctl", "postgres"))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on at the moment of the call."""
    # The kernel hands out a free port; another process may take it before postgres binds it, which start() retries.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_as() -> pwd.struct_passwd | None:
    """The account to run the server as: None for "this process's own", or a system user when we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise PostgresNotFound("running as root, and neither the postgres nor the nobody user exists to run PostgreSQL")


def _reachable_by_others(path: Path) -> bool:
    # The dropped user must traverse every folder above the data folder: a TMPDIR under /root (mode 0700) is not.
    return all(p.stat().st_mode & stat.S_IXOTH for p in [path, *path.parents])


class PostgresServer:
    """A private PostgreSQL server in a temporary folder, started on construction.

    Parameters
    ----------
    user : str
        The superuser ``initdb`` creates; every connection authenticates as it, without a password.
    bindir : Path or None
        PostgreSQL's server binaries; None looks them up with :func:`find_bindir`.
    base_dir : str or Path or None
        Where the temporary folder goes; None is the system's temporary folder.

    Attributes
    ----------
    host : str
        Always ``127.0.0.1``.
    port : int
        The TCP port the server listens on.
    root : Path
        The temporary folder: ``data/`` (the cluster), the unix socket and ``server.log``.

    Raises
    ------
    PostgresNotFound
        When the server binaries are missing.
    RuntimeError
        When ``initdb`` or ``pg_ctl start`` fails; the message carries their output and the server log.

    Notes
    -----
    The server also stops when the Python process exits normally (``atexit``), so that an interrupted test session
    does not leave a postgres behind.
    """

    host = "127.0.0.1"

    def __init__(self, user: str = "fcnbook", *, bindir: Path | None = None, base_dir: str | Path | None = None):
        self.user = user
        self.bindir = Path(bindir) if bindir is not None else find_bindir()
        if not _has_server(self.bindir):
            raise PostgresNotFound(MISSING)
        self._account = _run_as()
        base = Path(base_dir) if base_dir is not None else Path(tempfile.gettempdir())
        if self._account is not None and not _reachable_by_others(base.resolve()):
            base = Path("/tmp")
        self.root = Path(tempfile.mkdtemp(prefix="fcnbook-pg-", dir=base))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = 0
        self._running = False
        try:
            if self._account is not None:
                os.chown(self.root, self._account.pw_uid, self._account.pw_gid)
            self._initdb()
            self._start()
        except BaseException:
            self.stop()
            raise
        atexit.register(self.stop)

    # -- the processes ----------------------------------------------------------------------------------------------

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        kwargs = {}
        if self._account is not None:
            # setgid, setgroups([]) and setuid in the child before exec: root's supplementary groups are dropped too.
            kwargs = dict(user=self._account.pw_uid, group=self._account.pw_gid, extra_groups=[])
        # PG* variables (PGDATA, PGPORT, PGHOST...) of the caller's environment must not redirect the server; LC_ALL=C
        # because a locale that the environment names but the machine lacks makes initdb fail. cwd is the folder,
        # since the dropped user may not read the caller's working directory.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")} | {"LC_ALL": "C"}
        proc = subprocess.run([str(self.bindir / args[0]), *args[1:]], cwd=self.root, env=env, capture_output=True,
                              text=True, **kwargs)
        if check and proc.returncode != 0:
            log = self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""
            raise RuntimeError(f"{args[0]} failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}{log}")
        return proc

    def _initdb(self) -> None:
        # --no-sync: the cluster is thrown away, so nothing needs to reach the disk; --auth=trust covers both the
        # unix socket and the loopback host lines of pg_hba.conf.
        self._run("initdb", "-D", str(self.data), "-U", self.user, "--auth=trust", "-E", "UTF8", "--locale=C",
                  "--no-sync", "--no-instructions")

    def _start(self, attempts: int = 3) -> None:
        for attempt in range(attempts):
            self.port = free_port()
            # The settings go on the command line rather than into postgresql.conf: the file belongs to the server's
            # user, and a retry on another port only changes the command. Durability is off (a crash loses a
            # throwaway database), shared_buffers is small (it is allocated at start), and the unix socket lives in
            # the temporary folder, since /var/run/postgresql may not exist or belong to someone else.
            options = " ".join([
                "-c listen_addresses=127.0.0.1", f"-c port={self.port}", f"-c unix_socket_directories={self.root}",
                "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off", "-c shared_buffers=16MB",
            ])
            proc = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o", options,
                             "start", check=attempt == attempts - 1)
            if proc.returncode == 0:
                self._running = True
                return
            # Most likely the port was taken between free_port and the server's bind; make sure no half-started
            # server remains before the next try.
            self._run("pg_ctl", "-D", str(self.data), "stop", "-m", "immediate", check=False)

    def stop(self) -> None:
        """Kill the server (``pg_ctl stop -m immediate``) and remove its folder. Safe to call more than once."""
        atexit.unregister(self.stop)
        if self._running:
            self._running = False
            self._run("pg_ctl", "-D", str(self.data), "stop", "-m", "immediate", "-w", check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- addresses and databases ------------------------------------------------------------------------------------

    def url_for(self, dbname: str) -> str:
        """The SQLAlchemy URL (psycopg 3 driver) of database `dbname`, e.g. for ``optuna.storages.RDBStorage``."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{dbname}"

    def dsn_for(self, dbname: str) -> str:
        """The libpq connection string of database `dbname`, for ``psycopg.connect``."""
        return f"host={self.host} port={self.port} user={self.user} dbname={dbname}"

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the ``postgres`` database."""
        return self.url_for("postgres")

    @property
    def dsn(self) -> str:
        """The libpq connection string of the ``postgres`` database."""
        return self.dsn_for("postgres")

    def create_database(self, name: str) -> str:
        """Create an empty database and return its SQLAlchemy URL.

        Parameters
        ----------
        name : str
            The database's name: letters, digits and underscores (so that it needs no quoting in a URL), at most 63
            characters (PostgreSQL's limit). A test's ``request.node.name`` qualifies once ``[``, ``-`` and the like
            are replaced.

        Returns
        -------
        str
            ``postgresql+psycopg://USER@127.0.0.1:PORT/name``.
        """
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", name):
            raise ValueError(f"database name {name!r}: use letters, digits and underscores, at most 63 characters")
        import psycopg  # here, so that the module imports (and a missing server reports itself) without the driver
        from psycopg import sql

        # CREATE DATABASE cannot run inside a transaction block.
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url_for(name)


def postgres_fixture() -> Iterator[PostgresServer]:
    """Body of a module-scoped pytest fixture: one server for the module, skipped when PostgreSQL is missing.

    Use as ``postgres = pytest.fixture(scope="module")(postgres_fixture)`` in a test file.

    Yields
    ------
    PostgresServer
        A running server, stopped after the module's last test.
    """
    import pytest

    try:
        server = PostgresServer()
    except PostgresNotFound as e:
        pytest.skip(str(e))
    with server:
        yield server
