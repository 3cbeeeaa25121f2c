"""Files that hold personal data or evidence (the registers and their journals, the supervision
store, the operator's actions) are this process's own: created 0600, in folders created 0700, so
that another account of the host reads none of them. SQLite's sidecar files (`-wal`, `-shm`,
`-journal`) hold the same rows, so they are held to the same mode.

Only what is created here is given these modes: a folder or a file that already exists keeps the
one its owner gave it (a --data-dir the operator made, a register shared on purpose)."""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
SQLITE_SIDECARS = ("-wal", "-shm", "-journal")


def private_folder(path: Path | str) -> Path:
    """`path` and its missing parents, each created 0700 (whatever the umask)."""
    path = Path(path)
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_FOLDER)
        except FileExistsError:  # another process made it meanwhile: its mode is that process's
            continue
        os.chmod(folder, PRIVATE_FOLDER)
    return path


def private_file(path: Path | str) -> Path:
    """`path` created empty with mode 0600 if it does not exist (in a folder created 0700), before
    a library opens it with the umask's mode: SQLite then gives its sidecar files the same mode."""
    path = Path(path)
    private_folder(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return path
    os.fchmod(fd, PRIVATE_FILE)
    os.close(fd)
    return path


def private_sidecars(path: Path | str) -> None:
    """A private SQLite file's `-wal`, `-shm` and `-journal`, where they exist, at 0600 too: SQLite
    copies the database's mode, this makes sure of it when the database was made private here."""
    path = Path(path)
    try:
        private = (path.stat().st_mode & 0o777) == PRIVATE_FILE
    except FileNotFoundError:
        return
    for suffix in SQLITE_SIDECARS:
        sidecar = path.with_name(path.name + suffix)
        try:
            if private and sidecar.stat().st_mode & 0o077:
                os.chmod(sidecar, PRIVATE_FILE)
        except FileNotFoundError:
            continue


def append_private(path: Path | str, text: str) -> None:
    """Append to a file created 0600 (in a folder created 0700) if it does not exist."""
    path = Path(path)
    private_folder(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        f.write(text)
