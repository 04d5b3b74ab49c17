#!/usr/bin/env python3
"""clang-check: compiles the project's own C sources with clang, syntax only,
with exactly the flags the build uses (warnings as errors included).

The build itself uses the default compiler (gcc on Debian); clang warns about
other things (-Wstring-concatenation once broke a clang build unnoticed), so
`make test` runs this over build/compile_commands.json. Generated protobuf-c
code and third_party/ are not ours and are left out, as in the build.

Usage: clang-check.py BUILD_DIR [CLANG]   exits 0 when every file passes."""
import json
import os
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor


def s_command(entry, clang):
    args = shlex.split(entry["command"]) if "command" in entry else list(entry["arguments"])
    out = [clang]
    skip = False
    for a in args[1:]:
        if skip:
            skip = False
            continue
        if a == "-o":
            skip = True
            continue
        if a in ("-c", entry["file"]):
            continue
        out.append(a)
    return out + ["-fsyntax-only", entry["file"]]


def s_ours(path, root):
    rel = os.path.relpath(path, root)
    return (not rel.startswith("..") and ".pb-c." not in rel
            and not rel.startswith("third_party") and "/_deps/" not in rel)


def s_source_dir(build):
    """The source tree this build was configured from (CMakeCache.txt)."""
    with open(os.path.join(build, "CMakeCache.txt")) as f:
        for line in f:
            if line.startswith("CMAKE_HOME_DIRECTORY:"):
                return line.split("=", 1)[1].strip()
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    build = os.path.abspath(sys.argv[1])
    clang = sys.argv[2] if len(sys.argv) > 2 else "clang"
    root = s_source_dir(build)
    with open(os.path.join(build, "compile_commands.json")) as f:
        entries = [e for e in json.load(f) if s_ours(e["file"], root)]
    if not entries:
        print("clang-check: no sources in %s/compile_commands.json" % build, file=sys.stderr)
        return 1

    def run(e):
        p = subprocess.run(s_command(e, clang), cwd=e["directory"], capture_output=True, text=True)
        return e["file"], p.returncode, p.stderr

    failed = 0
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for path, rc, err in pool.map(run, entries):
            if rc != 0:
                failed += 1
                sys.stderr.write(err)
    print("clang-check: %d files, %d passed, %d failed" % (len(entries), len(entries) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
