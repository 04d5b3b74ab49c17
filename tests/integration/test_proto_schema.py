"""The crm.v1 schemas: lint clean (buf), and no breaking change against the
proto/ of the main branch, every file of it (git: where this branch left
`main`, else `origin/main`, or the CRM_PROTO_AGAINST ref; on main itself,
the previous commit). Without git or without that branch (a
tarball), the check falls back to the release image
proto/breaking-baseline.json (refreshed at each release with `make
proto-baseline`). A swapped pair of payload field numbers must be caught."""
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


def git(*args):
    return subprocess.run(["git", "-C", SOURCE] + list(args), capture_output=True)


def rev(ref):
    r = git("rev-parse", "--verify", "-q", ref + "^{commit}")
    return r.stdout.decode().strip() if r.returncode == 0 else None


def against_ref():
    """The commit whose schemas this checkout must stay compatible with, or
    None when there is no git checkout with main. On a branch, that is where
    it left main (its merge base), so that what main gained since is not
    taken for a deletion here; on main itself, the previous commit, so that
    every change of main is checked."""
    if not shutil.which("git"):
        return None
    refs = [os.environ["CRM_PROTO_AGAINST"]] if os.environ.get("CRM_PROTO_AGAINST") else []
    for ref in refs + ["main", "origin/main"]:
        main = rev(ref)
        if not main:
            continue
        head = rev("HEAD")
        r = git("merge-base", "HEAD", main)
        base = r.stdout.decode().strip() if r.returncode == 0 else main
        if base == head:
            return rev("HEAD^") or base
        return base
    return None


class ProtoSchemaTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="crm-proto-")
        cls.ref = against_ref()
        if cls.ref:
            # main's proto/ as files: `git archive` works in worktrees and
            # shallow clones alike, where buf's own .git input does not.
            tar = os.path.join(cls.tmp, "main.tar")
            r = git("archive", "-o", tar, cls.ref, "proto")
            assert r.returncode == 0, r.stderr
            subprocess.run(["tar", "-xf", tar, "-C", cls.tmp], check=True)
            cls.against = os.path.join(cls.tmp, "proto")
        else:
            cls.against = BASELINE

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def copy(self, name):
        dst = os.path.join(self.tmp, name)
        shutil.copytree(PROTO, dst, ignore=shutil.ignore_patterns("breaking-baseline.json"))
        return dst

    def edit(self, root, file, old, new):
        path = os.path.join(root, "crm", "v1", file)
        with open(path) as f:
            text = f.read()
        self.assertIn(old, text)
        with open(path, "w") as f:
            f.write(text.replace(old, new))

    def test_lint(self):
        r = buf("lint", PROTO)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_no_breaking_change_against_main(self):
        r = buf("breaking", PROTO, "--against", self.against)
        self.assertEqual(r.returncode, 0, "against %s:\n%s%s" % (self.ref or BASELINE, r.stdout,
                                                                  r.stderr))

    def test_no_breaking_change_against_the_release_baseline(self):
        r = buf("breaking", PROTO, "--against", BASELINE)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_the_baseline_covers_every_file(self):
        r = buf("ls-files", BASELINE)
        self.assertEqual(r.returncode, 0, r.stderr)
        have = {os.path.basename(x) for x in r.stdout.split()}
        want = {f for f in os.listdir(os.path.join(PROTO, "crm", "v1")) if f.endswith(".proto")}
        self.assertLessEqual(have, want)
        if self.ref is None:
            self.assertEqual(have, want, "run `make proto-baseline`")

    def test_the_check_catches_swapped_payload_field_numbers(self):
        """deal_won and deal_lost trading numbers is wire-compatible for
        protoc and invisible to an envelope-only check; buf must say no."""
        copy = self.copy("swapped")
        self.edit(copy, "event.proto",
                  "DealWon deal_won = 123;\n    DealLost deal_lost = 124;",
                  "DealWon deal_won = 124;\n    DealLost deal_lost = 123;")
        self.assertEqual(buf("build", copy).returncode, 0)
        r = buf("breaking", copy, "--against", self.against)
        self.assertNotEqual(r.returncode, 0, "a swapped field number passed the check")
        out = r.stdout + r.stderr
        self.assertRegex(out, r"(?s)event\.proto.*(deal_won|deal_lost)")

    def test_the_check_catches_a_renumbered_field_in_any_file(self):
        copy = self.copy("renumbered")
        self.edit(copy, "support.proto", "message TicketOpened {\n  string ticket_id = 1;",
                  "message TicketOpened {\n  string ticket_id = 51;")
        r = buf("breaking", copy, "--against", self.against)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("support.proto", r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
