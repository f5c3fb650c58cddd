# SPDX-License-Identifier: MIT
"""Cocoon benchmark driver; run through `make bench` (bench/run.sh).

Part 1 checkpoints and restarts build/bench/memprog holding N MiB of random
data or zeros, normal, forked, fast, direct, zstd and incremental, and
compares with dd on the same directory.  Part 2 runs build/bench/overhead
natively and under `cocoon launch`.  Part 3 checkpoints and restarts
build/bench/treeprog, a tree of processes talking over pipes and
socketpairs, against the same program as one process.  Part 4 compares
--compress zstd with gzip.  See bench/README.md for what each number means.

Environment:
  BENCH_DIR    scratch directory (default build/bench-tmp; $TMPDIR is not
               used unless you point BENCH_DIR there)
  BENCH_CASES  memory cases, e.g. "256:rand 1024:zero" (default
               "256:rand 1024:rand 4096:rand 1024:zero")
  BENCH_PORT   first coordinator port to try (default 17850)
  BENCH_COLD   1/0: also measure with dropped page cache (default 1 as root)
  BENCH_PARTS  which tables to print, e.g. "3" or "1 3" (default "1 2 3 4")
  BENCH_ZCASES part 4 cases, MIB:KIND (default "1024:text 1024:rand")
  BENCH_MODES  part 1 modes (default "plain direct zstd incr stream"; plain is the
               normal, forked, fast and cold rows)
  BENCH_TREE   part 3 cases, NPROC:TOTAL_MIB (default "10:100 1:100 10:1024 1:1024")
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COCOON = os.path.join(ROOT, "build/bin/cocoon")
MEMPROG = os.path.join(ROOT, "build/bench/memprog")
OVERHEAD = os.path.join(ROOT, "build/bench/overhead")
TREEPROG = os.path.join(ROOT, "build/bench/treeprog")
TMP = os.path.abspath(os.environ.get("BENCH_DIR", os.path.join(ROOT, "build/bench-tmp")))
CASES = os.environ.get("BENCH_CASES", "256:rand 1024:rand 4096:rand 1024:zero").split()
COLD = os.environ.get("BENCH_COLD", "1" if os.geteuid() == 0 else "0") == "1"
PARTS = os.environ.get("BENCH_PARTS", "1 2 3 4").replace(",", " ").split()
MODES = os.environ.get("BENCH_MODES", "plain direct zstd incr stream").split()
ZCASES = os.environ.get("BENCH_ZCASES", "1024:text 1024:rand").split()
TREE = os.environ.get("BENCH_TREE", "10:100 1:100 10:1024 1:1024").split()
STREAMED = os.path.join(TMP, "streamed")  # the bench's --image-stream commands store here
TREE_VERIFY_MSGS = 100  # VERIFY_MSGS in treeprog.c
TIMEOUT = 300

next_port = int(os.environ.get("BENCH_PORT", "17850"))
started_ports = []


class BenchError(Exception):
    pass


def free_port():
    """A TCP port on 127.0.0.1 nobody listens on, so no foreign coordinator answers."""
    global next_port
    while True:
        port = next_port
        next_port += 1
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()


def cocoon_env(port, ckpt_dir):
    env = dict(os.environ)
    env["COCOON_COORD"] = "127.0.0.1:%d" % port
    env["COCOON_CKPT_DIR"] = ckpt_dir
    started_ports.append((port, ckpt_dir))
    return env


def drop_caches():
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def status(env):
    r = subprocess.run([COCOON, "status", "--json"], env=env, capture_output=True, text=True)
    if r.returncode != 0:
        return None
    try:
        return json.loads(r.stdout)
    except ValueError:
        return None


def wait_procs(env, want, timeout=10.0):
    """Wait until the coordinator lists `want` processes; return the list."""
    end = time.monotonic() + timeout
    while True:
        st = status(env)
        procs = st.get("processes", []) if st else []
        if len(procs) == want or time.monotonic() > end:
            return procs
        time.sleep(0.05)


def stop_coordinators():
    """Kill the coordinators this run started: matched by both port and ckpt dir."""
    for port, ckpt_dir in started_ports:
        env = dict(os.environ, COCOON_COORD="127.0.0.1:%d" % port, COCOON_CKPT_DIR=ckpt_dir)
        subprocess.run([COCOON, "kill"], env=env, capture_output=True)
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if (b"coordinator" in argv and str(port).encode() in argv
                    and ckpt_dir.encode() in argv):
                try:
                    os.kill(int(pid), signal.SIGTERM)
                except OSError:
                    pass
    started_ports.clear()


class Drain(threading.Thread):
    """Reads a pipe to EOF so the writer never blocks; keeps the text."""

    def __init__(self, f):
        super().__init__(daemon=True)
        self.f, self.chunks = f, []
        self.start()

    def run(self):
        while True:
            b = self.f.read1(65536)
            if not b:
                return
            self.chunks.append(b)

    def text(self):
        return b"".join(self.chunks).decode(errors="replace")

    def pause(self, n, timeout=10.0):
        """memprog's n-th "pause SECONDS" line (after the n-th checkpoint)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            got = [l.split()[1] for l in self.text().splitlines() if l.startswith("pause ")]
            if len(got) >= n:
                return float(got[n - 1])
            time.sleep(0.01)
        raise BenchError("memprog printed no pause line after checkpoint %d" % n)


def timed(argv, **kw):
    t = time.perf_counter()
    r = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, **kw)
    t = time.perf_counter() - t
    if r.returncode != 0:
        raise BenchError("%s: exit %d: %s" % (" ".join(argv), r.returncode,
                                              (r.stderr or r.stdout).strip()[-300:]))
    return t, r.stdout


def restart(env, want_sum, errlog, *args):
    """Time `cocoon restart ARGS` from spawn to the first byte the program writes."""
    os.sync()
    with open(errlog, "ab") as err:
        t = time.perf_counter()
        p = subprocess.Popen([COCOON, "restart"] + list(args), env=env, stdout=subprocess.PIPE,
                             stderr=err)
        # exactly one byte: a buffered read could take more, which
        # communicate() (reading the pipe's fd itself) would then miss
        first = os.read(p.stdout.fileno(), 1)
        t = time.perf_counter() - t
        try:
            rest, _ = p.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            raise BenchError("restart: program did not finish verifying in %d s" % TIMEOUT)
    out = (first + rest).decode(errors="replace")
    if not first:
        return t, "FAIL(no output, exit %d)" % p.returncode
    verdict = "FAIL(no verify line, exit %d, output ended %r)" % (p.returncode, out[-60:])
    for line in out.splitlines():
        w = line.split()
        if len(w) == 3 and w[0] == "verify":
            verdict = "ok" if w[1] == "ok" and w[2] == want_sum else "FAIL(checksum)"
    if p.returncode != 0 and verdict == "ok":
        verdict = "FAIL(exit %d)" % p.returncode
    return t, verdict


DD_FILE = os.path.join(TMP, "dd.bin")


def dd_remove():
    if os.path.exists(DD_FILE):
        os.unlink(DD_FILE)
    os.sync()


def dd_write(mib):
    """Seconds for dd to write `mib` MiB and fsync, in TMP."""
    dd_remove()
    t, _ = timed(["dd", "if=/dev/zero", "of=" + DD_FILE, "bs=1M", "count=%d" % mib, "conv=fsync"])
    return t


def dd_times(mib):
    """dd write (fsync'd), hot read, cold read of `mib` MiB in TMP."""
    w = dd_write(mib)
    hot, _ = timed(["dd", "if=" + DD_FILE, "of=/dev/null", "bs=1M"])
    cold = None
    if COLD:
        drop_caches()
        cold, _ = timed(["dd", "if=" + DD_FILE, "of=/dev/null", "bs=1M"])
    dd_remove()
    return w, hot, cold


dd_warm_times = []


def dd_warm(mib):
    """dd writes (and deletes) a file of the size of the image about to be
    written, and the time goes into dd_warm_times.  On a VM that backs guest
    memory lazily, the page cache's first use of a guest page is slow (see
    bench/README.md); after this, the checkpoint and dd both find the same
    warm pages, so the two compare the same work."""
    dd_warm_times.append(dd_write(mib))
    dd_remove()


def touch_time(mib):
    """Seconds a fresh process takes to fault in `mib` MiB (memprog MIB touch)."""
    _, out = timed([MEMPROG, str(mib), "touch"])
    return float(out.split()[1])


def end_case(p, ckpt_dir):
    """After a memprog case: the program, its coordinator and images go."""
    if p.poll() is None:
        p.kill()
        p.wait()
    stop_coordinators()
    shutil.rmtree(ckpt_dir, ignore_errors=True)


class Memprog:
    """memprog MIB KIND under `cocoon launch FLAGS`, with its own coordinator
    and checkpoint directory; stdout drained (see Drain)."""

    def __init__(self, mib, kind, tag, flags, remote=None):
        self.mib = mib
        self.ckpt_dir = os.path.join(TMP, "ckpt-%d-%s-%s" % (mib, kind, tag))
        self.remote = remote  # where an --image-stream command stores the images
        shutil.rmtree(self.ckpt_dir, ignore_errors=True)
        self.env = cocoon_env(free_port(), self.ckpt_dir)
        self.errlog = os.path.join(TMP, "stderr-%d-%s-%s.log" % (mib, kind, tag))
        self.nckpt = 0
        with open(self.errlog, "wb") as err:
            self.p = subprocess.Popen([COCOON, "launch"] + flags + [MEMPROG, str(mib), kind],
                                      env=self.env, stdout=subprocess.PIPE, stderr=err)
        line = self.p.stdout.readline().decode().split()
        if len(line) != 2 or line[0] != "ready":
            self.end()
            raise BenchError("memprog did not start (see %s)" % self.errlog)
        self.want_sum = line[1]
        self.drain = Drain(self.p.stdout)
        procs = wait_procs(self.env, 1)
        if len(procs) != 1:
            self.end()
            raise BenchError("coordinator does not list memprog")
        self.pid = procs[0]["pid"]

    def checkpoint(self, *args):
        """`cocoon checkpoint ARGS`: (seconds, image bytes on disk, pause).
        A dd of the same size runs just before (see dd_warm)."""
        dd_warm(self.mib)
        os.sync()
        t, out = timed([COCOON, "checkpoint"] + list(args), env=self.env)
        imgs = [l.strip() for l in out.splitlines() if l.strip().endswith(".img")]
        if len(imgs) != 1:
            raise BenchError("checkpoint printed no image path: %r" % out)
        self.nckpt += 1
        img = imgs[0] if not self.remote else \
            os.path.join(self.remote, os.path.relpath(imgs[0], self.ckpt_dir))
        return t, os.stat(img).st_blocks * 512, self.drain.pause(self.nckpt)

    def dirty(self):
        """SIGUSR1: memprog rewrites 1% of its pages; the sum to verify now."""
        os.kill(self.pid, signal.SIGUSR1)
        end = time.monotonic() + 60
        while time.monotonic() < end:
            want = [l.split()[1] for l in self.drain.text().splitlines()
                    if l.startswith("dirtied ")]
            if want:
                self.want_sum = want[0]
                return
            time.sleep(0.01)
        raise BenchError("memprog did not rewrite its memory")

    def kill(self):
        os.kill(self.pid, signal.SIGKILL)
        self.p.wait(timeout=30)
        self.drain.join(timeout=10)
        if not self.drain.text().startswith("."):
            raise BenchError("memprog wrote no ticks before the checkpoint")
        wait_procs(self.env, 0, timeout=5)

    def restart(self, *args, cold=False):
        """(seconds to the first byte, verdict) of `cocoon restart ARGS`."""
        wait_procs(self.env, 0, timeout=5)
        if cold:
            drop_caches()
        return restart(self.env, self.want_sum, self.errlog, *args)

    def end(self):
        end_case(self.p, self.ckpt_dir)
        if self.remote:
            shutil.rmtree(self.remote, ignore_errors=True)


def mode_plain(mib, kind):
    """normal and forked checkpoints of one program; restarts hot, fast, cold."""
    m = Memprog(mib, kind, "plain", [])
    try:
        rows = {"normal": dict(zip(("ckpt", "image", "pause"), m.checkpoint()))}
        rows["forked"] = dict(zip(("ckpt", "image", "pause"), m.checkpoint("--forked")))
        m.kill()
        # the restarts start from the forked image (the same memory)
        rows["normal"]["rst"], rows["normal"]["verify"] = m.restart()
        rows["forked"]["rst"], rows["forked"]["verify"] = None, "(above)"
        rows["fast"] = dict(zip(("rst", "verify"), m.restart("--fast")))
        if COLD:
            rows["cold"] = dict(zip(("rst", "verify"), m.restart(cold=True)))
    finally:
        m.end()
    return rows


def mode_launched(name, flags, incremental=False, remote=None, restart_args=()):
    """Row NAME: one program launched with FLAGS, a checkpoint (incremental:
    a full one, 1% of the pages rewritten, then the one measured), kill,
    restart ARGS.  Returns the MODE_RUNS entry."""
    def run(mib, kind):
        m = Memprog(mib, kind, name, flags, remote)
        try:
            if incremental:
                m.checkpoint()
                m.dirty()
            row = dict(zip(("ckpt", "image", "pause"), m.checkpoint()))
            m.kill()
            row["rst"], row["verify"] = m.restart(*restart_args)
        finally:
            m.end()
        return {name: row}
    return run, [name]


# mode name -> (function(mib, kind) -> {row name: row}, rows it makes)
MODE_RUNS = {
    "plain": (mode_plain, ["normal", "forked", "fast", "cold"]),
    "direct": mode_launched("direct", ["--direct"]),
    "zstd": mode_launched("zstd", ["--compress", "zstd"]),
    "incr": mode_launched("incr", ["--incremental"], incremental=True),
    "stream": mode_launched(
        "stream", ["--image-stream", "mkdir -p '%s'/${COCOON_IMAGE%%/*} && cat >'%s'/$COCOON_IMAGE"
                   % (STREAMED, STREAMED)], remote=STREAMED,
        restart_args=["--image-stream", "cat '%s'/$COCOON_IMAGE" % STREAMED]),
}


def mem_case(mib, kind):
    """Every mode of MODES on MIB MiB of KIND, beside dd's times."""
    dd_warm_times.clear()
    rows, errors = {}, []
    for mode in MODES:
        try:
            rows.update(MODE_RUNS[mode][0](mib, kind))
        except (BenchError, subprocess.TimeoutExpired, OSError) as e:
            errors.append("%s %s %s: ERROR: %s" % (size(mib), kind, mode, e))
    dd_w, dd_hot, dd_cold = dd_times(mib)
    dd = {"w": min(dd_warm_times + [dd_w]), "hot": dd_hot, "cold": dd_cold,
          "touch": touch_time(mib)}
    return rows, dd, errors


def overhead():
    f = os.path.join(TMP, "overhead.txt")
    with open(f, "w") as fh:
        fh.write("x\n")

    def parse(out):
        return {l.rsplit(" ", 1)[0]: float(l.rsplit(" ", 1)[1]) for l in out.splitlines() if l}

    # Two rounds, alternating, best of each: the machine is shared and noisy.
    native, under = {}, {}
    port = free_port()
    ckpt_dir = os.path.join(TMP, "ckpt-overhead")
    runs = (([OVERHEAD, f], None, native),
            ([COCOON, "launch", OVERHEAD, f], cocoon_env(port, ckpt_dir), under))
    try:
        for _ in range(2):
            for argv, env, best in runs:
                _, out = timed(argv, env=env)
                for k, v in parse(out).items():
                    best[k] = min(v, best.get(k, v))
    finally:
        stop_coordinators()
        shutil.rmtree(ckpt_dir, ignore_errors=True)
    os.unlink(f)
    return [(k, native[k], under.get(k)) for k in native]


class TreeReader(threading.Thread):
    """Reads treeprog's shared stdout to EOF, line by line (see treeprog.c).

    Keeps, per process index, the "R" checksum, the time the first "T" tick
    was read (time.perf_counter()), the tick count and the "V" verdict line.
    """

    def __init__(self, f):
        super().__init__(daemon=True)
        self.f = f
        self.ready, self.first_tick, self.ticks, self.verdict = {}, {}, {}, {}
        self.junk = 0
        self.start()

    def run(self):
        buf = b""
        while True:
            b = self.f.read1(65536)
            if not b:
                return
            t = time.perf_counter()
            buf += b
            lines = buf.split(b"\n")
            buf = lines.pop()
            for l in lines:
                w = l.decode(errors="replace").split()
                try:
                    i = int(w[1])
                except (IndexError, ValueError):
                    self.junk += 1
                    continue
                if w[0] == "T":
                    self.first_tick.setdefault(i, t)
                    self.ticks[i] = self.ticks.get(i, 0) + 1
                elif w[0] == "R" and len(w) == 3:
                    self.ready[i] = w[2]
                elif w[0] == "V" and len(w) == 7:
                    self.verdict[i] = w[2:]
                else:
                    self.junk += 1


def proc_state(pid):
    """The state letter of /proc/PID/stat, or None if there is no such process."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def live(pids):
    return [p for p in pids if proc_state(p) not in (None, "Z", "X")]


def descendants(roots):
    """roots and every live descendant of theirs, from /proc."""
    parent = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    parent[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    want = set(roots)
    grew = True
    while grew:
        grew = False
        for p, pp in parent.items():
            if pp in want and p not in want:
                want.add(p)
                grew = True
    return live(want)


def stop_and_kill(pids, timeout=10.0):
    """SIGSTOP all, then SIGKILL all (so no survivor reacts to a dead peer); wait."""
    for sig in (signal.SIGSTOP, signal.SIGKILL):
        for p in pids:
            try:
                os.kill(p, sig)
            except OSError:
                pass
    end = time.monotonic() + timeout
    while live(pids):
        if time.monotonic() > end:
            raise BenchError("still alive after kill -9: %s" % live(pids))
        time.sleep(0.01)


def wait_until(cond, timeout, what):
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise BenchError(what)
        time.sleep(0.005)


def tree_case(nproc, mib):
    """Launch treeprog NPROC MIB, checkpoint, kill -9 all, restart; see README part 3."""
    port = free_port()
    ckpt_dir = os.path.join(TMP, "ckpt-tree-%d-%d" % (nproc, mib))
    shutil.rmtree(ckpt_dir, ignore_errors=True)
    env = cocoon_env(port, ckpt_dir)
    errlog = os.path.join(TMP, "stderr-tree-%d-%d.log" % (nproc, mib))
    res = {"nproc": nproc, "mib": mib}
    everyone = set()  # every pid seen, for the cleanup
    with open(errlog, "wb") as err:
        p = subprocess.Popen([COCOON, "launch", TREEPROG, str(nproc), str(mib)], env=env,
                             stdout=subprocess.PIPE, stderr=err)
    everyone.add(p.pid)
    rp = None
    try:
        rd = TreeReader(p.stdout)

        def started():
            if p.poll() is not None:
                raise BenchError("treeprog ended at launch, exit %d" % p.returncode)
            return len(rd.ready) == nproc and len(rd.ticks) == nproc
        wait_until(started, 60, "treeprog did not start %d processes" % nproc)

        def listed():
            st = status(env)
            procs = st.get("processes", []) if st else []
            return len(procs) == nproc and all(q.get("state") == "running" for q in procs)
        wait_until(listed, 10, "cocoon status does not list %d running processes" % nproc)
        # Let messages flow for a while so that some are in flight at the checkpoint.
        time.sleep(0.2)

        res["ckpt"], out = timed([COCOON, "checkpoint"], env=env)
        imgs = [l.strip() for l in out.splitlines() if l.strip().endswith(".img")]
        if len(imgs) != nproc:
            raise BenchError("checkpoint wrote %d images, want %d: %r" % (len(imgs), nproc, out))
        res["image"] = sum(os.stat(f).st_blocks * 512 for f in imgs)

        st = status(env) or {}
        pids = [q["pid"] for q in st.get("processes", [])]
        if len(pids) != nproc:
            raise BenchError("after the checkpoint cocoon status lists %d processes" % len(pids))
        victims = descendants(pids + [p.pid])
        everyone.update(victims)
        stop_and_kill(victims)
        p.wait(timeout=30)
        rd.join(timeout=10)
        wait_procs(env, 0, timeout=5)

        # Restart: from spawning `cocoon restart` to a tick read from every process.
        os.sync()
        with open(errlog, "ab") as err:
            t0 = time.perf_counter()
            rp = subprocess.Popen([COCOON, "restart"], env=env, stdout=subprocess.PIPE, stderr=err)
        everyone.add(rp.pid)
        rr = TreeReader(rp.stdout)
        end = time.monotonic() + 60
        while len(rr.first_tick) < nproc and rp.poll() is None and time.monotonic() < end:
            time.sleep(0.001)
        if len(rr.first_tick) == nproc:
            res["rst_first"] = min(rr.first_tick.values()) - t0
            res["rst_all"] = max(rr.first_tick.values()) - t0
        # The coordinator must list them all as restarted and running; poll
        # until it does or a process has started to exit (its verdict line).
        seen = []
        while rp.poll() is None and not rr.verdict and time.monotonic() < end:
            st = status(env) or {}
            seen = [q for q in st.get("processes", [])
                    if q.get("state") == "running" and q.get("restarted") is True]
            if len(seen) == nproc:
                break
        status_ok = len(seen) == nproc
        try:
            rc = rp.wait(timeout=60)
        except subprocess.TimeoutExpired:
            everyone.update(descendants([rp.pid]))
            raise BenchError("restart: treeprog did not finish verifying in 60 s "
                             "(%d of %d processes ticked, verdicts from %s)"
                             % (len(rr.first_tick), nproc, sorted(rr.verdict)))
        rr.join(timeout=10)
        res["verify"] = tree_verdict(nproc, rd, rr, rc)
        if res["verify"] == "ok" and not status_ok:
            res["verify"] = "FAIL(status lists %d of %d running, restarted)" % (len(seen), nproc)
    except BenchError as e:
        raise BenchError("%s (stderr: %s)" % (e, errlog))
    finally:
        for q in (p, rp):
            if q is not None and q.poll() is None:
                everyone.update(descendants([q.pid]))
        left = live(everyone)
        if left:
            stop_and_kill(left)
        for q in (p, rp):
            if q is not None:
                q.wait()
        stop_coordinators()
        shutil.rmtree(ckpt_dir, ignore_errors=True)
    if res["verify"] == "ok":
        os.unlink(errlog)
    else:
        res["verify"] += " (stderr: %s)" % errlog
    return res


def tree_verdict(nproc, before, after, rc):
    """ok if every process re-checksummed its memory to the value it had at
    launch, no message was lost, duplicated or damaged, and messages flowed
    after the restart; else FAIL(why)."""
    missing = [i for i in range(nproc) if i not in after.first_tick]
    if missing:
        return "FAIL(no tick from %s after restart)" % missing
    for i in range(nproc):
        v = after.verdict.get(i)
        if v is None:
            return "FAIL(no verdict from %d)" % i
        word, check, s, msgs, seqerr = v[0], v[1], v[2], int(v[3]), int(v[4])
        if check == "not-restarted":
            return "FAIL(%d did not see a restart)" % i
        if check != "sum-ok" or s != before.ready.get(i):
            return "FAIL(checksum of %d)" % i
        if seqerr:
            return "FAIL(%d messages out of sequence in %d)" % (seqerr, i)
        want = TREE_VERIFY_MSGS * (nproc - 1 if i == 0 else 1)
        if msgs < want:
            return "FAIL(%d got %d messages after restart, want %d)" % (i, msgs, want)
        if word != "ok":
            return "FAIL(%d: see its stderr)" % i
    if rc != 0:
        return "FAIL(exit %d)" % rc
    return "ok"


def table(headers, rows, right_from=0):
    """Print rows under one or more header lines, columns aligned."""
    if not isinstance(headers[0], list):
        headers = [headers]
    widths = [max(len(str(r[i])) for r in headers + rows) for i in range(len(headers[0]))]

    def fmt(r):
        cells = []
        for i, c in enumerate(r):
            c = str(c)
            cells.append(c.ljust(widths[i]) if i < right_from else c.rjust(widths[i]))
        return "  ".join(cells).rstrip()

    for h in headers:
        print(fmt(h))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(fmt(r))


def secs(t):
    return "-" if t is None else "%.3f" % t


def ratio(a, b):
    return "-" if a is None or b is None or b <= 0 else "%.2fx" % (a / b)


def size(mib):
    return "%d GiB" % (mib // 1024) if mib % 1024 == 0 else "%d MiB" % mib


def machine_line():
    fs = subprocess.run(["df", "-T", "-P", TMP], capture_output=True, text=True).stdout
    fs = fs.splitlines()[-1].split()
    with open("/proc/meminfo") as m:
        mem = int(m.readline().split()[1]) / (1 << 20)
    load = os.getloadavg()[0]
    return "scratch %s on %s (%s); %d CPUs, %.1f GiB RAM, load %.2f at start" % (
        TMP, fs[0], fs[1], os.cpu_count(), mem, load)


def part1():
    out, errors, failed = [], [], False
    order = [r for mode in MODES for r in MODE_RUNS[mode][1]]
    for case in CASES:
        mib, kind = case.split(":")
        mib = int(mib)
        rows, dd, errs = mem_case(mib, kind)
        errors += errs
        failed |= bool(errs)
        first = True
        for name in order:
            r = rows.get(name)
            if r is None:
                continue
            failed |= r["verify"] not in ("ok", "(above)")
            # what a restart compares with: an image in the page cache or not
            dd_read = dd["cold"] if name in ("cold", "direct") else dd["hot"]
            ck = r.get("ckpt")
            out.append([size(mib) if first else "", kind if first else "", name, secs(ck),
                        secs(r.get("pause")),
                        "%.0f MiB" % (r["image"] / (1 << 20)) if "image" in r else "-",
                        secs(dd["w"]) if first else "", ratio(ck, dd["w"]),
                        secs(r["rst"]), secs(dd_read), ratio(r["rst"], dd_read),
                        secs(dd["touch"]) if first else "", r["verify"]])
            first = False
    print("1. Checkpoint and restart (seconds)")
    table([["", "", "", "", "", "", "dd", "", "", "dd", "", "", ""],
           ["size", "kind", "mode", "ckpt", "pause", "image", "write", "ckpt/dd", "restart",
            "read", "rst/dd", "touch", "verify"]], out, right_from=3)
    for e in errors:
        print(e)
    print()
    print("  normal: `cocoon checkpoint`; image written and fsync'd.  forked: `cocoon checkpoint")
    print("    --forked` right after (a copy writes the image while the program runs); the")
    print("    restarts of normal, fast and cold start from this image.  fast: `cocoon restart")
    print("    --fast` (memory mapped from the image, read on first touch).  cold: a restart")
    print("    after echo 3 > drop_caches.  direct: launched with --direct (O_DIRECT image")
    print("    data; the image is not in the page cache, so its restart reads the disk).")
    print("    zstd: launched with --compress zstd.  incr: launched with --incremental; a full")
    print("    checkpoint, then 1% of the pages rewritten, then this one (its restart reads")
    print("    both images).  stream: launched with --image-stream 'cat >DIR/$COCOON_IMAGE',")
    print("    restarted with --image-stream 'cat DIR/$COCOON_IMAGE' (through pipes, into memory).")
    print("  pause: the longest the program was stopped (its own clock, 1 ms steps).")
    print("  dd write: dd if=/dev/zero bs=1M conv=fsync, same size and directory: the best of")
    print("    the runs just before each checkpoint of the case (they warm the page cache's")
    print("    memory for it, see bench/README.md).  dd read: dd of that file to /dev/null,")
    print("    in the page cache (hot), or after drop_caches for cold and direct.")
    print("  restart: spawn of `cocoon restart` -> first byte the restored program writes.")
    print("  touch: a fresh process faulting in the same memory (memset): the floor for a")
    print("    restart that copies into anonymous memory.")
    print("  verify: the restored program re-checksums all of its memory.")
    print("  On a VM whose host backs guest memory lazily, buffered writes and restarts")
    print("  vary 2-3x between runs: see bench/README.md before trusting one ratio.")
    print()
    return failed


def part2():
    failed = False
    print("2. Runtime overhead, not checkpointing (ns/op; best of 2 programs x 3 loops of ~0.5 s)")
    try:
        ov = overhead()
        rows = [[name, "%.1f" % n, "-" if u is None else "%.1f" % u,
                 "-" if u is None else "%+.1f%%" % ((u / n - 1) * 100)] for name, n, u in ov]
        table(["operation", "native", "cocoon", "overhead"], rows, right_from=1)
    except (BenchError, subprocess.TimeoutExpired, OSError) as e:
        print("ERROR: %s" % e)
        failed = True
    print()
    return failed


def part3():
    rows, errors = [], []
    failed = False
    for case in TREE:
        nproc, mib = (int(x) for x in case.split(":"))
        try:
            r = tree_case(nproc, mib)
        except (BenchError, subprocess.TimeoutExpired, OSError) as e:
            errors.append("%d x %s  ERROR: %s" % (nproc, size(mib), e))
            failed = True
            continue
        failed |= r["verify"] != "ok"
        per = (mib << 20) // nproc & ~4095
        rows.append([str(nproc), size(mib), "%.1f MiB" % (per / (1 << 20)), secs(r["ckpt"]),
                     "%.0f MiB" % (r["image"] / (1 << 20)), secs(r.get("rst_first")),
                     secs(r.get("rst_all")), r["verify"]])
    print("3. A computation of 10 processes, against one process holding the same memory (seconds)")
    head = ["", "total", "memory", "", "total", "restart", "restart", ""]
    head2 = ["processes", "memory", "each", "ckpt", "image", "first", "all", "verify"]
    table([head, head2], rows, right_from=0)
    for e in errors:
        print(e)
    print()
    print("  treeprog: the root forks the others and talks to each over 2 pipes (or a")
    print("    socketpair, every 3rd child): a 16-byte message each way every ~1 ms.")
    print("    Every process holds its share of the memory, random-filled.")
    print("  ckpt: wall time of `cocoon checkpoint` (every image written and fsync'd).")
    print("  image: disk space of all the images together (st_blocks).")
    print("  restart: after SIGSTOP + SIGKILL of every process, from spawning `cocoon")
    print("    restart` until the bench has read a tick (a line every process writes to")
    print("    the shared stdout pipe about every 1 ms) written after the restart:")
    print("    first: from any process; all: from every process, i.e. the last one.")
    print("    Image in page cache.  Includes up to ~1 ms of tick period.")
    print("  verify: each restored process re-checksums its memory against the value")
    print("    from launch, and the root and each child exchange %d more messages;"
          % TREE_VERIFY_MSGS)
    print("    no message may be lost, duplicated or damaged across the restart, and")
    print("    `cocoon status` must list every process as running and restarted.")
    print()
    return failed


def zstd_case(mib, kind):
    """Plain and --compress zstd checkpoints of the same memory; gzip -1 and
    -6 of the plain image beside them; a restart from the compressed one."""
    res = {}
    for mode, extra in (("plain", []), ("zstd", ["--compress", "zstd"])):
        port = free_port()
        ckpt_dir = os.path.join(TMP, "zckpt-%s" % mode)
        shutil.rmtree(ckpt_dir, ignore_errors=True)
        env = cocoon_env(port, ckpt_dir)
        errlog = os.path.join(TMP, "zstderr-%s.log" % mode)
        with open(errlog, "wb") as err:
            p = subprocess.Popen([COCOON, "launch"] + extra + [MEMPROG, str(mib), kind], env=env,
                                 stdout=subprocess.PIPE, stderr=err)
        try:
            line = p.stdout.readline().decode().split()
            if len(line) != 2 or line[0] != "ready":
                raise BenchError("memprog did not start (see %s)" % errlog)
            drain = Drain(p.stdout)
            procs = wait_procs(env, 1)
            os.sync()
            t, out = timed([COCOON, "checkpoint"], env=env)
            img = [l.strip() for l in out.splitlines() if l.strip().endswith(".img")][0]
            res[mode] = (t, os.stat(img).st_size)
            if mode == "plain":
                for lvl in ("1", "6"):
                    with open(img, "rb") as f:
                        t0 = time.perf_counter()
                        g = subprocess.run(["gzip", "-" + lvl, "-c"], stdin=f,
                                           stdout=subprocess.PIPE, check=True)
                        res["gzip-" + lvl] = (time.perf_counter() - t0, len(g.stdout))
            os.kill(procs[0]["pid"], signal.SIGKILL)
            p.wait(timeout=30)
            drain.join(timeout=10)
            wait_procs(env, 0, timeout=5)
            if mode == "zstd":
                res["rst"], res["verify"] = restart(env, line[1], errlog)
        finally:
            end_case(p, ckpt_dir)
    return res


def part4():
    rows, failed = [], False
    for case in ZCASES:
        mib, kind = case.split(":")
        try:
            r = zstd_case(int(mib), kind)
        except (BenchError, subprocess.TimeoutExpired, OSError, subprocess.CalledProcessError) as e:
            print("%s %s  ERROR: %s" % (size(int(mib)), kind, e))
            failed = True
            continue
        failed |= r["verify"] != "ok"
        plain = r["plain"][1]
        for name in ("plain", "zstd", "gzip-1", "gzip-6"):
            t, n = r[name]
            rows.append([size(int(mib)), kind, name, secs(t), "%.0f MiB" % (n / (1 << 20)),
                         "%.2fx" % (plain / n), secs(r["rst"]) if name == "zstd" else "",
                         r["verify"] if name == "zstd" else ""])
    print("4. Compression (seconds; ratio = plain image / this)")
    table(["size", "kind", "how", "time", "size", "ratio", "restart", "verify"], rows, right_from=3)
    print()
    print("  plain / zstd: `cocoon checkpoint` of memprog launched without / with --compress zstd")
    print("  (level 3, two threads).  gzip -1 / -6: compressing the plain image file (in page")
    print("  cache) to a pipe, for comparison.  restart: hot, from the compressed image.")
    print()
    return failed


def main():
    unknown = [m for m in MODES if m not in MODE_RUNS]
    if unknown:
        print("BENCH_MODES: unknown %s (known: %s)" % (" ".join(unknown), " ".join(MODE_RUNS)))
        return 2
    os.makedirs(TMP, exist_ok=True)
    print("Cocoon benchmark. " + machine_line())
    print()
    failed = False
    for part, fn in (("1", part1), ("2", part2), ("3", part3), ("4", part4)):
        if part in PARTS:
            failed |= fn()
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        stop_coordinators()
