#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Cocoon's test driver (Python 3 standard library only).

Finds the tests by glob and runs them in parallel, each with a timeout:
  build/tests/unit/*   unit tests: must exit 0
  build/tests/cr/*     checkpoint/restart programs (tests/lib/crtest.h), each run
                       in every mode of MODES
  tests/cr/*.sh        scenario scripts (error paths): exit 0 pass, 77 skip

A CR program is never judged by "still running": it checks itself after the
restart and prints PASS, and the driver compares what it sees from outside
(/proc/PID/maps and /proc/PID/fd) before the kill and after the restart.

--native runs each CR program without Cocoon (ready -> SIGTERM -> PASS), the
way to validate the programs themselves.

Run as root, the tests run as the unprivileged user `cocoontest` from a copy
of build/.  The driver is a child subreaper and kills every process a test
left behind (each test's processes carry COCOON_TEST_ID in their environment).
Output: one line per test and mode, then "N passed, N failed[, N skipped]".
"""

import argparse
import concurrent.futures
import ctypes
import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODES = ["once", "twice", "again", "reuse", "forked", "fast", "zstd", "incr", "direct", "stream"]
TEST_USER = "cocoontest"
POLL = 0.05  # seconds between polls of a condition
SKIP_RC = 77


class Failure(Exception):
    """A test failed; the message says at which step and why."""


# ---------------------------------------------------------------- processes

def is_zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def copy_stream(src, dst):
    """Copy a child's pipe into its log file until end of stream."""
    try:
        while True:
            data = src.read1(65536)
            if not data:
                break
            dst.write(data)
            dst.flush()
    finally:
        src.close()
        dst.close()


class Reaper:
    """Owns every process the driver starts.  The driver is a child subreaper,
    so daemons a test starts (coordinators) end up as its children; they are
    reaped here, but never a pid a Popen object still waits for."""

    def __init__(self):
        self.lock = threading.Lock()
        self.popen_pids = set()
        self.subreaper = False
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            PR_SET_CHILD_SUBREAPER = 36
            self.subreaper = libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
        except OSError:
            pass

    def popen(self, argv, **kw):
        with self.lock:
            p = subprocess.Popen(argv, **kw)
            self.popen_pids.add(p.pid)
        return p

    def forget(self, p):
        with self.lock:
            self.popen_pids.discard(p.pid)

    def reap_orphans(self):
        """waitpid() every zombie child that no Popen owns."""
        me = os.getpid()
        with self.lock:
            for pid in list_pids():
                if pid in self.popen_pids:
                    continue
                st = proc_stat(pid)
                if st and st[1] == me and st[0] == "Z":
                    try:
                        os.waitpid(pid, os.WNOHANG)
                    except ChildProcessError:
                        pass


def list_pids():
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def proc_stat(pid):
    """(state, ppid) of pid, or None if it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    fields = s[s.rfind(")") + 2:].split()
    return fields[0], int(fields[1])


def pids_marked(marker):
    """Processes whose environment holds COCOON_TEST_ID=marker."""
    needle = ("COCOON_TEST_ID=%s\0" % marker).encode()
    found = []
    for pid in list_pids():
        try:
            with open("/proc/%d/environ" % pid, "rb") as f:
                if needle in f.read():
                    found.append(pid)
        except OSError:
            pass
    return found


def alive(pid):
    st = proc_stat(pid)
    return st is not None and st[0] != "Z"


# ---------------------------------------------------------------- snapshots

def fd_range_reserved(pid):
    """The runtime's own fds: [soft RLIMIT_NOFILE - 32, soft RLIMIT_NOFILE)."""
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max open files"):
                soft = line.split()[3]
                if soft == "unlimited":
                    return range(0)
                soft = int(soft)
                return range(max(soft - 32, 0), soft)
    return range(0)


def snapshot_maps(pid):
    """/proc/PID/maps as (start, end, perms, offset, path), adjacent lines with
    identical perms and path merged: the restorer may map one region in several
    pieces, and the kernel merges anonymous VMAs differently after a restore.
    Device and inode numbers are left out: a shared anonymous or deleted object
    recreated at restart is a new inode.  Private mappings of an image file
    (or of the memfd a compressed one is decompressed into) are anonymous
    memory that `cocoon restart --fast` mapped from it.  The
    runtime's own memfd mappings ("/memfd:cocoon-...") are left out."""
    out = []
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            parts = line.split(None, 5)
            start, end = (int(x, 16) for x in parts[0].split("-"))
            perms, offset = parts[1], int(parts[2], 16)
            path = parts[5].strip() if len(parts) > 5 else ""
            if perms.endswith("p") and (path.endswith((".img", ".img (deleted)")) or
                                        path.startswith("/memfd:cocoon-image")):
                path, offset = "", 0
            if path.startswith("/memfd:cocoon-"):
                continue  # the runtime's own (incremental checkpoints' tables)
            if out and out[-1][1] == start and out[-1][2] == perms and out[-1][4] == path:
                out[-1] = (out[-1][0], end, perms, out[-1][3], path)
            else:
                out.append((start, end, perms, offset, path))
    return ["%012x-%012x %s %08x %s" % m for m in out]


def snapshot_fds(pid):
    """/proc/PID/fd, one line per fd outside the runtime's range.  Regular
    files and directories: path, position and flags; pipes, sockets, anon
    inodes: type only.  fds 0-2: type only, because `cocoon restart` gives the
    restarted program the restart command's stdio (other files, same kind)."""
    reserved = fd_range_reserved(pid)
    out = []
    d = "/proc/%d/fd" % pid
    for name in sorted(os.listdir(d), key=int):
        fd = int(name)
        if fd in reserved:
            continue
        try:
            target = os.readlink("%s/%d" % (d, fd))
        except OSError:
            continue
        if target.startswith("/") and fd > 2:
            info = {}
            try:
                with open("/proc/%d/fdinfo/%d" % (pid, fd)) as f:
                    for line in f:
                        k, _, v = line.partition(":")
                        info[k] = v.strip()
            except OSError:
                pass
            out.append("%d %s pos=%s flags=%s" % (fd, target, info.get("pos"), info.get("flags")))
        elif target.startswith("/"):
            out.append("%d file" % fd)
        elif target.startswith(("pipe:", "socket:")):
            out.append("%d %s" % (fd, target.split(":")[0]))
        else:
            out.append("%d %s" % (fd, target))  # anon_inode:[eventfd] and the like
    return out


def snapshot(pid):
    try:
        return {"maps": snapshot_maps(pid), "fds": snapshot_fds(pid)}
    except OSError as e:
        raise Failure("cannot read /proc/%d: %s" % (pid, e))


def compare(before, after, what):
    """Raise Failure with a unified diff when the snapshots differ."""
    import difflib
    msgs = []
    for key in ("maps", "fds"):
        if before[key] != after[key]:
            diff = difflib.unified_diff(before[key], after[key], "before", "after", lineterm="")
            msgs.append("%s differ %s:\n%s" % (key, what, "\n".join(diff)))
    if msgs:
        raise Failure("\n".join(msgs))


# ---------------------------------------------------------------- one test run

class Run:
    """One test in one mode: its temp dir, port, environment and processes."""

    def __init__(self, drv, name, mode):
        self.drv, self.name, self.mode = drv, name, mode
        self.marker = "%s-%s-%d-%d" % (name, mode, os.getpid(), drv.next_id())
        self.dir = tempfile.mkdtemp(prefix="%s-%s-" % (name, mode), dir=drv.tmp)
        self.ckpt = os.path.join(self.dir, "ckpt")
        self.work = os.path.join(self.dir, "work")
        self.logs = os.path.join(self.dir, "logs")
        for d in (self.work, self.logs):
            os.mkdir(d)
        for d in (self.dir, self.work, self.logs):
            drv.give(d)
        self.ready = os.path.join(self.dir, "ready")
        self.port = drv.free_port()
        self.coord = "127.0.0.1:%d" % self.port
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": self.dir, "TMPDIR": self.dir, "LANG": "C", "LC_ALL": "C",
            "COCOON_COORD": self.coord, "COCOON_CKPT_DIR": self.ckpt,
            "COCOON_LOG": "debug", "COCOON_TEST_ID": self.marker,
            "CRTEST_READY": self.ready, "CRTEST_DIR": self.work,
        }
        self.procs = []
        self.nlog = 0
        self.journal = []
        self.t0 = time.monotonic()
        self.deadline = self.t0 + drv.args.timeout

    def note(self, msg):
        self.journal.append("%7.3f %s" % (time.monotonic() - self.t0, msg))

    def left(self, step):
        t = self.deadline - time.monotonic()
        if t <= 0:
            raise Failure("timeout (%ds) at: %s" % (self.drv.args.timeout, step))
        return t

    def spawn(self, label, argv, env=None, pipes=False):
        """Start argv in its own session, stdout/stderr to log files; with
        pipes=True through pipes copied to them, as a shell pipeline would
        (a checkpointed program then re-attaches to the restart's pipes)."""
        self.nlog += 1
        base = os.path.join(self.logs, "%02d-%s" % (self.nlog, label))
        out, err = open(base + ".out", "wb"), open(base + ".err", "wb")
        self.drv.give(base + ".out")  # the program may reopen its stdio by path
        self.drv.give(base + ".err")
        try:
            p = self.drv.reaper.popen(argv, stdin=subprocess.DEVNULL,
                                      stdout=subprocess.PIPE if pipes else out,
                                      stderr=subprocess.PIPE if pipes else err,
                                      cwd=self.work, env=env or self.env,
                                      start_new_session=True, **self.drv.user_kw)
        except OSError as e:
            out.close()
            err.close()
            raise Failure("cannot run %s: %s" % (argv[0], e))
        p.copiers = []
        if pipes:
            for src, dst in ((p.stdout, out), (p.stderr, err)):
                t = threading.Thread(target=copy_stream, args=(src, dst), daemon=True)
                t.start()
                p.copiers.append(t)
        else:
            out.close()
            err.close()
        p.out_path, p.err_path, p.label = base + ".out", base + ".err", label
        self.procs.append(p)
        self.note("started %s pid %d: %s" % (label, p.pid, " ".join(argv)))
        return p

    def wait(self, p, step, timeout=None):
        t = self.left(step) if timeout is None else min(timeout, self.left(step))
        try:
            rc = p.wait(t)
        except subprocess.TimeoutExpired:
            raise Failure("timeout at: %s (%s still running)" % (step, p.label))
        self.note("%s exited %d" % (p.label, rc))
        return rc

    @staticmethod
    def output(p):
        for t in p.copiers:
            t.join(5)
        with open(p.out_path, errors="replace") as f:
            out = f.read()
        with open(p.err_path, errors="replace") as f:
            return out, f.read()

    def cocoon(self, label, *args, timeout=None, check=True):
        """Run a short cocoon command; (rc, stdout, stderr)."""
        p = self.spawn(label, [self.drv.cocoon] + list(args))
        rc = self.wait(p, "cocoon " + " ".join(args), timeout)
        out, err = self.output(p)
        if check and rc != 0:
            raise Failure("cocoon %s exited %d: %s" % (" ".join(args), rc, err.strip()[-500:]))
        return rc, out, err

    def wait_ready(self, p):
        while not os.path.exists(self.ready):
            if p.poll() is not None:
                out, err = self.output(p)
                raise Failure("program exited %d before ready: %s%s" % (p.returncode, out, err))
            self.left("waiting for ready")
            time.sleep(POLL)
        self.note("ready")

    def wait_running(self, p):
        """Poll `cocoon status --json` until pid p runs user code again (after a
        restart, or after a checkpoint: `cocoon checkpoint` returns once the
        images are durable, while the process may still be resuming)."""
        last = ""
        while True:
            if p.poll() is not None:
                out, err = self.output(p)
                raise Failure("%s exited %d before running: %s%s"
                              % (p.label, p.returncode, out[-500:], err[-1000:]))
            self.left("waiting for state running (last status: %s)" % last[-300:])
            rc, out, err = self.cocoon("status", "status", "--json", check=False, timeout=10)
            last = out.strip() or err.strip()
            if rc == 0:
                try:
                    st = json.loads(out)
                    for pr in st.get("processes", []):
                        if pr.get("pid") == p.pid and pr.get("state") == "running":
                            self.note("running")
                            return st
                except (ValueError, AttributeError) as e:
                    raise Failure("status --json is not JSON (%s): %s" % (e, out[:300]))
            time.sleep(POLL * 2)

    def checkpoint(self, want_gen):
        forked = ["--forked"] if self.mode == "forked" else []
        rc, out, err = self.cocoon("checkpoint", "checkpoint", *forked)
        lines = out.splitlines()
        if not lines or lines[0].strip() != "generation %d" % want_gen:
            raise Failure("checkpoint printed %r, want 'generation %d' first" % (out[:200], want_gen))
        images = [l.strip() for l in lines[1:] if l.strip()]
        if not images:
            raise Failure("checkpoint printed no image paths")
        for img in images:
            if self.mode == "stream":  # the command stored it, not the writer
                img = os.path.join(stream_dir(self), os.path.relpath(img, self.ckpt))
            if not os.path.isfile(img):
                raise Failure("checkpoint image %s does not exist" % img)
        try:
            with open(os.path.join(self.ckpt, "latest")) as f:
                latest = f.read().strip()
        except OSError as e:
            raise Failure("no latest after checkpoint: %s" % e)
        if latest != "gen-%06d" % want_gen:
            raise Failure("latest is %r after generation %d" % (latest, want_gen))
        return images

    def kill9(self, p):
        """kill -9 every process of the computation, as a crash would: all
        stopped first, so none sees the others die and reacts."""
        pids = {p.pid}
        rc, out, err = self.cocoon("status-before-kill", "status", "--json", check=False,
                                   timeout=10)
        try:
            pids |= {q["pid"] for q in json.loads(out).get("processes", [])}
        except (ValueError, KeyError, TypeError):
            pass
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except (ProcessLookupError, PermissionError):
                    pass
        self.wait(p, "kill -9 " + p.label)
        end = time.monotonic() + 10
        while any(os.path.exists("/proc/%d" % pid) and not is_zombie(pid)
                  for pid in pids - {p.pid}):
            if time.monotonic() > end:
                raise Failure("processes of the computation survive kill -9")
            time.sleep(0.02)

    def finish(self, p, what):
        """SIGTERM the program; it must print PASS and exit 0."""
        if p.poll() is not None:
            out, err = self.output(p)
            raise Failure("%s exited %d before SIGTERM: %s%s" % (what, p.returncode, out, err))
        os.kill(p.pid, signal.SIGTERM)
        rc = self.wait(p, "waiting for %s to end after SIGTERM" % what)
        out, err = self.output(p)
        if rc != 0 or "PASS" not in out.splitlines():
            hint = ""
            for q in self.procs:
                verdicts = [l for l in self.output(q)[0].splitlines()
                            if l == "PASS" or l.startswith("FAIL:")]
                if q is not p and verdicts:
                    hint = " (%r went to the stdout of %s, not of this command)" \
                        % (verdicts[-1][:300], q.label)
            raise Failure("%s exited %d%s, stdout: %s stderr: %s"
                          % (what, rc, hint, out.strip()[-1000:], err.strip()[-1000:]))

    def cleanup(self):
        """Kill everything this run started or left behind; reap it."""
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        end = time.monotonic() + 5
        while True:
            left = pids_marked(self.marker)
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            for p in self.procs:
                try:
                    p.wait(0.2 if left else 0)
                except subprocess.TimeoutExpired:
                    pass
            self.drv.reaper.reap_orphans()
            if not left or time.monotonic() > end:
                break
            time.sleep(POLL)
        for p in self.procs:
            if p.returncode is None:
                try:
                    p.wait(1)
                except subprocess.TimeoutExpired:
                    pass
            if p.returncode is not None:
                self.drv.reaper.forget(p)
        # POSIX shared memory a test named after its run (posix_shm.c)
        for f in glob.glob("/dev/shm/*%s*" % self.marker[:40]):
            try:
                os.unlink(f)
            except OSError:
                pass
        return left

    def keep_logs(self, reason):
        dest = os.path.join(self.drv.logdir, "%s-%s" % (self.name, self.mode))
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(self.logs, dest)
        for path in glob.glob(os.path.join(self.ckpt, "**", "*.log"), recursive=True):
            rel = os.path.relpath(path, self.ckpt).replace(os.sep, "_")
            shutil.copy(path, os.path.join(dest, "ckpt_" + rel))
        with open(os.path.join(dest, "driver.log"), "w") as f:
            f.write("test %s mode %s, temp dir %s, coordinator %s\n"
                    % (self.name, self.mode, self.dir, self.coord))
            f.write("\n".join(self.journal) + "\n\nFAIL: " + reason + "\n")
        return dest


# ---------------------------------------------------------------- the modes

def run_native(r, prog):
    p = r.spawn("program", [prog], pipes=True)
    r.wait_ready(p)
    a = snapshot(p.pid)
    time.sleep(0.2)
    compare(a, snapshot(p.pid), "between ready and 0.2 s later (no checkpoint)")
    r.finish(p, "program")


def stream_dir(r):
    """Mode stream: where the image commands keep the images."""
    return r.ckpt + "-streamed"


def restart_and_check(r, before, images=None):
    extra = {"fast": ["--fast"],
             "stream": ["--image-stream", "cat '%s'/$COCOON_IMAGE" % stream_dir(r)]}
    p = r.spawn("restart", [r.drv.cocoon, "restart", "--ckpt-dir", r.ckpt] +
                extra.get(r.mode, []) + (images or []), pipes=True)
    r.wait_running(p)
    compare(before, snapshot(p.pid), "before kill -9 vs after restart")
    return p


def run_cr(r, prog):
    if not os.access(r.drv.cocoon, os.X_OK):
        raise Failure("cocoon not found at %s" % r.drv.cocoon)
    store = "mkdir -p '%s'/${COCOON_IMAGE%%/*} && cat >'%s'/$COCOON_IMAGE" % (stream_dir(r),
                                                                          stream_dir(r))
    compress = {"zstd": ["--compress", "zstd"], "incr": ["--incremental"],
                "direct": ["--direct"], "stream": ["--image-stream", store]}.get(r.mode, [])
    p = r.spawn("launch", [r.drv.cocoon, "launch", "--ckpt-dir", r.ckpt] + compress + ["--", prog],
                pipes=True)
    r.wait_ready(p)
    images = r.checkpoint(1)
    if r.mode in ("twice", "incr"):
        images = r.checkpoint(2)
    r.wait_running(p)
    before = snapshot(p.pid)
    r.kill9(p)
    if r.mode == "reuse":
        p = restart_and_check(r, before, images)
        r.finish(p, "first restart")
        p = restart_and_check(r, before, images)
        r.finish(p, "second restart from the same image")
        return
    p = restart_and_check(r, before)
    if r.mode in ("again", "forked", "fast", "zstd", "incr", "direct", "stream"):
        if r.mode == "incr":  # after the restart: a full one, then one on top of it
            r.checkpoint(3)
            r.checkpoint(4)
        else:
            r.checkpoint(2)
        r.wait_running(p)
        before = snapshot(p.pid)
        r.kill9(p)
        p = restart_and_check(r, before)
    r.finish(p, "restarted program")


def run_script(r, script):
    # SCENARIO_SRC: tests/scenario (the C sources some scripts compile, the
    # scenario.sh they source), or its copy when tests run as another user.
    src = os.path.join(r.drv.run_build, "scenario") if r.drv.uid is not None else \
        os.path.join(REPO, "tests", "scenario")
    env = dict(r.env, COCOON=r.drv.cocoon, TESTPROG_DIR=r.drv.progdir, SCENARIO_SRC=src,
               COCOON_COORD2="127.0.0.1:%d" % r.drv.free_port())
    for k in ("COCOON_CKPT_DIR", "CRTEST_READY", "CRTEST_DIR"):
        del env[k]
    p = r.spawn("script", ["sh", script], env=env)
    rc = r.wait(p, "running " + os.path.basename(script))
    out, err = r.output(p)
    if rc == SKIP_RC:
        lines = (out + err).strip().splitlines()
        return lines[-1] if lines else "skipped"
    if rc != 0 or "PASS" not in out.splitlines():
        raise Failure("script exited %d: %s %s" % (rc, out.strip()[-1500:], err.strip()[-1500:]))


def run_unit(r, prog):
    p = r.spawn("unit", [prog])
    rc = r.wait(p, "unit test")
    if rc != 0:
        out, err = r.output(p)
        raise Failure("exited %d: %s %s" % (rc, out.strip()[-1500:], err.strip()[-1500:]))


# ---------------------------------------------------------------- the driver

class Driver:
    def __init__(self, args):
        self.args = args
        self.reaper = Reaper()
        self.lock = threading.Lock()
        self.counter = 0
        self.ports = set()
        self.build = os.path.abspath(args.build)
        self.logdir = os.path.join(self.build, "test-logs")
        self.tmp = tempfile.mkdtemp(prefix="cocoon-test-")
        os.chmod(self.tmp, 0o755)
        self.user_kw, self.uid = {}, None
        if os.geteuid() == 0 and not args.as_root:
            self.setup_user()
        self.cocoon = os.path.abspath(args.cocoon) if args.cocoon else \
            os.path.join(self.run_build, "bin", "cocoon")
        self.progdir = os.path.join(self.run_build, "tests", "cr")

    def setup_user(self):
        """Run tests as TEST_USER from a copy of build/ that user can read."""
        try:
            pw = pwd.getpwnam(TEST_USER)
        except KeyError:
            home = "/tmp/%s-home" % TEST_USER
            rc = subprocess.call(["useradd", "--system", "--create-home", "--home-dir", home,
                                  "--shell", "/usr/sbin/nologin", "--user-group", TEST_USER],
                                 stdout=subprocess.DEVNULL)
            if rc != 0:
                print("warning: cannot create user %s; running tests as root" % TEST_USER)
                return
            pw = pwd.getpwnam(TEST_USER)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        self.user_kw = {"user": self.uid, "group": self.gid, "extra_groups": []}

    @property
    def run_build(self):
        return getattr(self, "_run_build", self.build)

    def copy_build(self):
        """The repo may not be readable by the test user: give it a copy."""
        if self.uid is None:
            return
        dst = os.path.join(self.tmp, "build")
        for sub in ("bin", "lib", "examples", os.path.join("tests", "cr"),
                    os.path.join("tests", "apps"), os.path.join("tests", "plugins"),
                    os.path.join("tests", "unit")):
            src = os.path.join(self.build, sub)
            if os.path.isdir(src):
                shutil.copytree(src, os.path.join(dst, sub), symlinks=True)
        for s in glob.glob(os.path.join(REPO, "tests", "cr", "*.sh")):
            os.makedirs(os.path.join(dst, "scripts"), exist_ok=True)
            shutil.copy(s, os.path.join(dst, "scripts"))
        # All of tests/scenario, in a folder of its own (run_script's
        # SCENARIO_SRC): scenario.sh among the scripts would be taken for a test.
        shutil.copytree(os.path.join(REPO, "tests", "scenario"), os.path.join(dst, "scenario"))
        for root, dirs, files in os.walk(self.tmp):
            for n in dirs + files:
                path = os.path.join(root, n)
                if not os.path.islink(path):
                    os.chmod(path, os.stat(path).st_mode | 0o555 if n in dirs
                             else os.stat(path).st_mode | 0o444)
        self._run_build = dst
        if not self.args.cocoon:
            self.cocoon = os.path.join(dst, "bin", "cocoon")
        self.progdir = os.path.join(dst, "tests", "cr")

    def give(self, path):
        if self.uid is not None:
            os.chown(path, self.uid, self.gid)

    def next_id(self):
        with self.lock:
            self.counter += 1
            return self.counter

    def free_port(self):
        """A port nothing listens on and no other running test was given."""
        while True:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            with self.lock:
                if port not in self.ports:
                    self.ports.add(port)
                    return port

    def jobs(self):
        """(name, mode, function, path) for every test found."""
        a = self.args
        out = []
        progs = sorted(p for p in glob.glob(os.path.join(self.progdir, "*"))
                       if os.path.isfile(p) and os.access(p, os.X_OK))
        modes = ["native"] if a.native else a.modes.split(",")
        for p in progs:
            for m in modes:
                out.append((os.path.basename(p), m, run_native if a.native else run_cr, p))
        if not a.native:
            sdir = os.path.join(self.run_build, "scripts") if self.uid is not None \
                else os.path.join(REPO, "tests", "cr")
            for s in sorted(glob.glob(os.path.join(sdir, "*.sh"))):
                out.append((os.path.basename(s)[:-3], "sh", run_script, s))
            for u in sorted(glob.glob(os.path.join(self.run_build, "tests", "unit", "*"))):
                if os.access(u, os.X_OK) and os.path.isfile(u):
                    out.append(("unit/" + os.path.basename(u), "unit", run_unit, u))
        if a.filter:
            out = [j for j in out if any(f in j[0] for f in a.filter)]
        return out

    def run_one(self, job):
        name, mode, fn, path = job
        r = Run(self, name.replace("/", "_"), mode)
        verdict, reason = "PASS", ""
        try:
            skip = fn(r, path)
            if skip:
                verdict, reason = "SKIP", skip
        except Failure as e:
            verdict, reason = "FAIL", str(e)
        except Exception as e:  # a driver bug must not hang or hide the others
            verdict, reason = "FAIL", "driver error: %r" % e
        if verdict == "FAIL" and mode not in ("native", "unit") and \
                os.access(self.cocoon, os.X_OK):
            r.deadline = time.monotonic() + 5
            try:  # its output lands in the logs kept below
                r.cocoon("final-status", "status", "--json", check=False, timeout=5)
            except Failure:
                pass
        left = r.cleanup()
        if left and verdict != "FAIL":
            verdict, reason = "FAIL", "processes left behind: %s" % left
        label = name if mode in ("sh", "unit") else "%s [%s]" % (name, mode)
        line = "%s %s %.1fs" % (verdict, label, time.monotonic() - r.t0)
        if verdict == "SKIP":
            line += " (%s)" % reason
        if verdict == "FAIL":
            dest = r.keep_logs(reason)
            first = reason.splitlines()[0] if reason else ""
            line += "\n    %s\n    logs: %s" % (first[:300], os.path.relpath(dest))
            if self.args.verbose:
                line += "\n" + "\n".join("    " + l for l in reason.splitlines()[1:40])
        if not self.args.keep:
            shutil.rmtree(r.dir, ignore_errors=True)
        with self.lock:
            print(line, flush=True)
        return verdict

    def main(self):
        if not self.args.filter:  # logs of an earlier run would mislead
            shutil.rmtree(self.logdir, ignore_errors=True)
        os.makedirs(self.logdir, exist_ok=True)
        self.copy_build()
        jobs = self.jobs()
        if not jobs:
            print("no tests found under %s" % self.run_build)
            return 1
        counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.args.jobs) as ex:
            for v in ex.map(self.run_one, jobs):
                counts[v] += 1
        self.reaper.reap_orphans()
        if not self.args.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
        summary = "%d passed, %d failed" % (counts["PASS"], counts["FAIL"])
        if counts["SKIP"]:
            summary += ", %d skipped" % counts["SKIP"]
        print(summary)
        return 1 if counts["FAIL"] else 0


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("filter", nargs="*", help="run only tests whose name contains one of these")
    ap.add_argument("--native", action="store_true",
                    help="run the CR programs without Cocoon (validates the programs)")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="parallel tests (default 2)")
    ap.add_argument("--timeout", type=int, default=60, help="seconds per test (default 60)")
    ap.add_argument("--modes", default=",".join(MODES), help="comma list of modes to run")
    ap.add_argument("--build", default=os.path.join(REPO, "build"), help="build directory")
    ap.add_argument("--cocoon", help="the cocoon command to test (default BUILD/bin/cocoon)")
    ap.add_argument("--as-root", action="store_true", help="as root, do not switch user")
    ap.add_argument("-k", "--keep", action="store_true", help="keep temp dirs")
    ap.add_argument("-v", "--verbose", action="store_true", help="print failure details")
    return ap.parse_args()


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    sys.exit(Driver(parse_args()).main())
