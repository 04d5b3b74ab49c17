"""A throwaway PostgreSQL data directory without running initdb each time.

initdb is most of a throwaway cluster's start-up: it creates and fills three
databases, seconds on a busy machine, while a copy of its 40 MB result takes
a tenth of that. The integration tests (tests/integration/crmtest.py) and the
benchmarks (bench/bench.py) start dozens of clusters a run, so initdb runs
once per build into BUILD/pg-template/<key>/data and every cluster gets its
own fresh copy of it (new_data_dir). The key covers what the result depends
on: the server programs (their paths, sizes and times), the options and the
owner; when it changes, a new template is made and the old
one removed. Standard library only (bench/ needs nothing else)."""
import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile

# initdb's options for every throwaway cluster of the tests and the bench.
INITDB_OPTIONS = ("-A", "trust", "-U", "crm", "--no-sync", "-E", "UTF8")


def _key(bindir, run_as):
    """A package upgrade (even a minor release) replaces the binaries: their
    size and time stand for the version without running one (a process
    start costs up to a second on a loaded machine)."""
    what = [INITDB_OPTIONS, run_as]
    for program in ("initdb", "postgres"):
        path = os.path.join(bindir, program)
        st = os.stat(path)
        what.append((path, st.st_size, st.st_mtime_ns))
    return hashlib.sha256(repr(what).encode()).hexdigest()[:16]


def _as(run_as, cmd):
    return ["runuser", "-u", run_as, "--"] + cmd if run_as else cmd


def template(bindir, run_as, build_dir):
    """The template data directory under build_dir, made on first use
    (initdb as run_as, or as ourselves when None). Returns None when
    build_dir is None or not writable, or CRM_TEST_FAST=off (then the caller runs
    initdb itself, as before the template existed: for comparing)."""
    if build_dir is None or os.environ.get("CRM_TEST_FAST") == "off":
        return None
    root = os.path.join(build_dir, "pg-template")
    key = _key(bindir, run_as)
    data = os.path.join(root, key, "data")
    if os.path.exists(os.path.join(data, "PG_VERSION")):
        return data
    try:
        os.makedirs(root, exist_ok=True)
        lock = open(os.path.join(root, ".lock"), "w")
    except OSError:
        return None
    with lock:
        # One program makes it; the others started beside it wait for it.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(os.path.join(data, "PG_VERSION")):
            return data
        work = tempfile.mkdtemp(prefix="crm-pg-initdb-")
        try:
            if run_as:
                shutil.chown(work, run_as)
            subprocess.run(_as(run_as, [os.path.join(bindir, "initdb"), "-D",
                                        os.path.join(work, "data")] + list(INITDB_OPTIONS)),
                           check=True, capture_output=True)
            for old in os.listdir(root):
                if old != ".lock":
                    shutil.rmtree(os.path.join(root, old), ignore_errors=True)
            partial = os.path.join(root, key + ".partial")
            subprocess.run(["cp", "-a", work, partial], check=True)
            os.rename(partial, os.path.join(root, key))  # whole, or not there at all
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return data


def new_data_dir(bindir, run_as, build_dir, data):
    """Makes the data directory `data` (which must not exist; its parent is
    writable by run_as): a copy of the template, or initdb's own output
    when there is no template. Raises CalledProcessError on failure."""
    tmpl = template(bindir, run_as, build_dir)
    if tmpl:
        # cp -a keeps the owner (run_as) and the modes (0700).
        subprocess.run(["cp", "-a", tmpl, data], check=True, capture_output=True)
    else:
        subprocess.run(_as(run_as, [os.path.join(bindir, "initdb"), "-D", data]
                           + list(INITDB_OPTIONS)), check=True, capture_output=True, text=True)
