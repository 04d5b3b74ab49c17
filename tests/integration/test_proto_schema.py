"""The crm.v1 schemas: lint clean (buf), and no breaking change against the
released baseline image proto/breaking-baseline.json (refreshed on purpose
at each release with `make proto-baseline`)."""
import os
import shutil
import subprocess
import tempfile
import unittest

from crmtest import SOURCE

BUF = os.path.join(SOURCE, "node_modules", ".bin", "buf")
PROTO = os.path.join(SOURCE, "proto")
BASELINE = os.path.join(PROTO, "breaking-baseline.json")


def buf(*args, cwd=SOURCE):
    return subprocess.run([BUF] + list(args), cwd=cwd, capture_output=True, text=True)


class ProtoSchemaTest(unittest.TestCase):
    def test_lint(self):
        r = buf("lint", PROTO)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_no_breaking_change_against_baseline(self):
        r = buf("breaking", PROTO, "--against", BASELINE)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_the_check_catches_a_breaking_change(self):
        """Renumbering a field of the envelope must be reported."""
        tmp = tempfile.mkdtemp()
        try:
            copy = os.path.join(tmp, "proto")
            shutil.copytree(PROTO, copy)
            path = os.path.join(copy, "crm", "v1", "event.proto")
            with open(path) as f:
                text = f.read()
            self.assertIn("uint64 sequence = 6;", text)
            with open(path, "w") as f:
                f.write(text.replace("uint64 sequence = 6;", "uint64 sequence = 60;"))
            r = buf("breaking", copy, "--against", BASELINE)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("sequence", r.stdout + r.stderr)
        finally:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    unittest.main()
