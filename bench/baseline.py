"""Issue 13's "no fewer closures per second than today", for `make bench`: the closures of
bench/closures.py by the code before issue 13 (commit BENCH_BASELINE, default d300cc8) and
by this tree, in the same run, on equal terms.

The baseline is `git archive`d to a temporary directory. Each tree gets a fresh database
(`portal_bench_<pid>_base`, `_now`) migrated by its own `manage.py migrate`, the same
number of holders from its own `seed_random_holders`, and its own `closure_confirm`, run
by this script as a child with that tree first on `sys.path` (`portal.settings.dev`,
DEBUG false, tasks queued in the database, email kept in memory): 1 process over
BENCH_BASELINE_ALONE accounts (300), then 4 processes over BENCH_BASELINE_TOGETHER (1,200),
the trees taking turns for BENCH_BASELINE_ROUNDS rounds (3), compared by their medians."""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

COMMIT = os.environ.get("BENCH_BASELINE", "d300cc8")
ALONE = int(os.environ.get("BENCH_BASELINE_ALONE", 300))
TOGETHER = int(os.environ.get("BENCH_BASELINE_TOGETHER", 1_200))
ROUNDS = int(os.environ.get("BENCH_BASELINE_ROUNDS", 3))
PROCESSES = 4
TARGET = 1.0


class Tree:
    """A checkout of the portal with a scratch database of its own."""

    def __init__(self, path: Path, database_url: str, checkpoints: str):
        self.path = path
        self.url = database_url
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings.dev",
            "DEBUG": "false",
            "DATABASE_URL": database_url,
            "AUDIT_CHECKPOINT_DIR": checkpoints,
        }

    def run(self, *args: str) -> str:
        done = subprocess.run(  # noqa: S603 - this Python, that tree's scripts
            [sys.executable, *args], cwd=self.path, env=self.env, capture_output=True, text=True
        )
        if done.returncode:
            raise RuntimeError(f"{args[:2]} in {self.path} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def prepare(self, count: int) -> list[int]:
        self.run("manage.py", "migrate", "--noinput", "--verbosity", "0")
        return json.loads(self.run(__file__, str(self.path), "prepare", str(count)))

    def close(self, groups: list[list[int]]) -> tuple[float, dict]:
        """Close each group in a process of its own, all at once; closures/s and the
        lock waits sampled meanwhile."""
        from bench.closures import Sampler

        workers = [
            subprocess.Popen(  # noqa: S603 - this script, in that tree
                [sys.executable, __file__, str(self.path), "close", json.dumps(group)],
                cwd=self.path,
                env=self.env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for group in groups
        ]

        def reply(worker):
            line = worker.stdout.readline()
            if not line:
                raise RuntimeError(f"a closing process in {self.path} failed")
            return json.loads(line)

        try:
            pids = [reply(worker)["pid"] for worker in workers]
            with Sampler(self.url, pids) as sampler:
                started = time.perf_counter()
                for worker in workers:
                    worker.stdin.write("go\n")
                    worker.stdin.flush()
                for worker in workers:
                    reply(worker)
                seconds = time.perf_counter() - started
        except BaseException:
            for worker in workers:
                worker.kill()
            raise
        finally:
            codes = [worker.wait() for worker in workers]
        if any(codes):
            raise RuntimeError(f"a closing process in {self.path} failed")
        return sum(map(len, groups)) / seconds, sampler.report()


def closures_vs_baseline(bench, root: Path, keep: bool) -> None:
    """Add the rows comparing this tree's closures/s with COMMIT's to `bench`'s table."""
    alone_what = f"closures/s, 1 process: now vs {COMMIT} ({ALONE:,} accounts)"
    together_what = (
        f"closures/s, {PROCESSES} processes: now vs {COMMIT} ({TOGETHER:,} accounts, "
        f"median of {ROUNDS})"
    )
    target = f">= {TARGET}x (no fewer than today)"
    with tempfile.TemporaryDirectory(prefix="portal-bench-baseline-") as tmp:
        try:
            git = ["git", "-C", str(root), "archive", COMMIT]  # noqa: S607 - this repository's
            archive = subprocess.run(git, capture_output=True, check=True).stdout  # noqa: S603
            base_path = Path(tmp, COMMIT)
            base_path.mkdir()
            tar = ["tar", "-x", "-C", str(base_path)]
            subprocess.run(tar, input=archive, check=True)  # noqa: S603, S607
        except (OSError, subprocess.CalledProcessError) as error:
            stderr = getattr(error, "stderr", None)
            why = f"not available ({stderr.decode().strip() if stderr else error})"
            bench.unavailable(alone_what, target, why)
            bench.unavailable(together_what, target, why)
            return
        server = bench.database_url.rpartition("/")[0]
        names = [f"portal_bench_{os.getpid()}_{suffix}" for suffix in ("base", "now")]
        trees = [
            Tree(path, f"{server}/{name}", str(Path(tmp, f"checkpoints-{name}")))
            for path, name in zip((base_path, root), names, strict=True)
        ]
        try:
            for name in names:
                bench._server(f'CREATE DATABASE "{name}"')
            ids = [tree.prepare(ALONE + ROUNDS * TOGETHER) for tree in trees]
            alone = [
                tree.close([tree_ids[:ALONE]])[0] for tree, tree_ids in zip(trees, ids, strict=True)
            ]
            rates: list[list[float]] = [[], []]
            waits: list[list[dict]] = [[], []]
            quarter = TOGETHER // PROCESSES
            for n in range(ROUNDS):
                start = ALONE + n * TOGETHER
                for i, tree in enumerate(trees):
                    groups = [
                        ids[i][start + p * quarter : start + (p + 1) * quarter]
                        for p in range(PROCESSES)
                    ]
                    rate, report = tree.close(groups)
                    rates[i].append(rate)
                    waits[i].append(report)
        finally:
            if not keep:
                for name in names:
                    bench._server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def compare(what, now, base):
        ratio = now / base
        bench.row(
            what, f"{now:.0f}/s", f"{base:.0f}/s {COMMIT}", f"{ratio:.2f}x", target, ratio >= TARGET
        )

    compare(alone_what, alone[1], alone[0])
    compare(together_what, median(rates[1]), median(rates[0]))

    def shares(reports):
        lock = median(report["lock_share"] for report in reports)
        advisory = median(report["advisory_share"] for report in reports)
        return f"{lock:.1%} (advisory {advisory:.1%})"

    bench.row(
        f"{PROCESSES} closing processes: samples waiting on a lock, now vs {COMMIT} (median)",
        shares(waits[1]),
        f"{shares(waits[0])} {COMMIT}",
        "",
        "",
        None,
    )
    bench.notes.append(
        f"Closures now vs {COMMIT}: `git archive {COMMIT}` of this repository; each tree on "
        f"a fresh database ({', '.join(names)}, {'kept' if keep else 'dropped'}) migrated by "
        f"its own manage.py, {ALONE + ROUNDS * TOGETHER:,} holders seeded by its own "
        f"`seed_random_holders`, closed by its own `closure_confirm` as bench/closures.py "
        f"`close_each` does (portal.settings.dev, DEBUG false, database tasks backend, locmem "
        f"email): 1 process over {ALONE:,} accounts ({COMMIT}, then now), then {PROCESSES} "
        f"processes over {TOGETHER:,} ({quarter:,} each), {COMMIT} and now taking turns for "
        f"{ROUNDS} rounds, never at once. {PROCESSES}-process closures/s by round: {COMMIT} "
        f"{[round(rate) for rate in rates[0]]}, now {[round(rate) for rate in rates[1]]}; "
        f"lock waits by round: {COMMIT} {[report['waits'] for report in waits[0]]}, now "
        f"{[report['waits'] for report in waits[1]]}."
    )


if __name__ == "__main__":
    # A child in the tree argv[1] names: bench/closures.py from beside this script, then
    # that tree's portal, accounts and refunds ahead of the installed checkout's.
    from closures import close_each, prepare

    tree = sys.argv[1]
    sys.path[0] = tree
    import django
    from django.test import override_settings

    django.setup()
    import portal

    if not portal.__file__ or not portal.__file__.startswith(tree):
        sys.exit(f"portal imported from {portal.__file__}, not from {tree}")
    with override_settings(
        TASKS={"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}},
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    ):
        if sys.argv[2] == "prepare":
            print(json.dumps(prepare(int(sys.argv[3]))))
        else:
            close_each(json.loads(sys.argv[3]))
