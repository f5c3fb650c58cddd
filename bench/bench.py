# SPDX-License-Identifier: MIT
"""Cocoon benchmark driver; run through `make bench` (bench/run.sh).

Part 1 checkpoints and restarts build/bench/memprog holding N MiB of random
data or zeros and compares with dd on the same directory.  Part 2 runs
build/bench/overhead natively and under `cocoon launch`.  Prints two tables;
see bench/README.md for what each number means.

Environment:
  BENCH_DIR    scratch directory (default build/bench-tmp; $TMPDIR is not
               used unless you point BENCH_DIR there)
  BENCH_CASES  memory cases, e.g. "256:rand 1024:zero" (default
               "256:rand 1024:rand 4096:rand 1024:zero")
  BENCH_PORT   first coordinator port to try (default 17850)
  BENCH_COLD   1/0: also measure with dropped page cache (default 1 as root)
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
TMP = os.path.abspath(os.environ.get("BENCH_DIR", os.path.join(ROOT, "build/bench-tmp")))
CASES = os.environ.get("BENCH_CASES", "256:rand 1024:rand 4096:rand 1024:zero").split()
COLD = os.environ.get("BENCH_COLD", "1" if os.geteuid() == 0 else "0") == "1"
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


def timed(argv, **kw):
    t = time.perf_counter()
    r = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, **kw)
    t = time.perf_counter() - t
    if r.returncode != 0:
        raise BenchError("%s: exit %d: %s" % (" ".join(argv), r.returncode,
                                              (r.stderr or r.stdout).strip()[-300:]))
    return t, r.stdout


def restart(env, want_sum, errlog):
    """Time `cocoon restart` from spawn to the first byte the program writes."""
    os.sync()
    with open(errlog, "ab") as err:
        t = time.perf_counter()
        p = subprocess.Popen([COCOON, "restart"], env=env, stdout=subprocess.PIPE, stderr=err)
        first = p.stdout.read(1)
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
    verdict = "FAIL(no verify line)"
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


def touch_time(mib):
    """Seconds a fresh process takes to fault in `mib` MiB (memprog MIB touch)."""
    _, out = timed([MEMPROG, str(mib), "touch"])
    return float(out.split()[1])


def mem_case(mib, kind):
    port = free_port()
    ckpt_dir = os.path.join(TMP, "ckpt-%d-%s" % (mib, kind))
    shutil.rmtree(ckpt_dir, ignore_errors=True)
    env = cocoon_env(port, ckpt_dir)
    errlog = os.path.join(TMP, "stderr-%d-%s.log" % (mib, kind))
    res = {"mib": mib, "kind": kind}
    dd_w1 = None
    with open(errlog, "wb") as err:
        p = subprocess.Popen([COCOON, "launch", MEMPROG, str(mib), kind], env=env,
                             stdout=subprocess.PIPE, stderr=err)
    try:
        line = p.stdout.readline().decode().split()
        if len(line) != 2 or line[0] != "ready":
            raise BenchError("memprog did not start (see %s)" % errlog)
        want_sum = line[1]
        drain = Drain(p.stdout)
        procs = wait_procs(env, 1)
        if len(procs) != 1:
            raise BenchError("coordinator does not list memprog (port %d)" % port)

        dd_w1 = dd_write(mib)
        dd_remove()
        res["ckpt"], out = timed([COCOON, "checkpoint"], env=env)
        imgs = [l.strip() for l in out.splitlines() if l.strip().endswith(".img")]
        if len(imgs) != 1:
            raise BenchError("checkpoint printed no image path: %r" % out)
        res["image"] = os.stat(imgs[0]).st_blocks * 512

        os.kill(procs[0]["pid"], signal.SIGKILL)
        p.wait(timeout=30)
        drain.join(timeout=10)
        if not drain.text().startswith("."):
            raise BenchError("memprog wrote no ticks before the checkpoint")
        wait_procs(env, 0, timeout=5)

        res["touch"] = touch_time(mib)
        res["rst_hot"], res["verify"] = restart(env, want_sum, errlog)
        if COLD:
            wait_procs(env, 0, timeout=5)
            drop_caches()
            res["rst_cold"], v = restart(env, want_sum, errlog)
            if v != "ok" and res["verify"] == "ok":
                res["verify"] = v + "(cold)"
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        stop_coordinators()
        shutil.rmtree(ckpt_dir, ignore_errors=True)
    dd_w2, res["dd_hot"], res["dd_cold"] = dd_times(mib)
    res["dd_w"] = min(dd_w1, dd_w2)
    os.unlink(errlog)
    return res


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


def main():
    os.makedirs(TMP, exist_ok=True)
    print("Cocoon benchmark. " + machine_line())
    print()
    rows = []
    failed = False
    for case in CASES:
        mib, kind = case.split(":")
        try:
            r = mem_case(int(mib), kind)
        except (BenchError, subprocess.TimeoutExpired, OSError) as e:
            rows.append([size(int(mib)), kind, "ERROR: %s" % e])
            failed = True
            continue
        failed |= r["verify"] != "ok"
        rows.append([size(r["mib"]), kind, secs(r["ckpt"]), "%.0f MiB" % (r["image"] / (1 << 20)),
                     secs(r["dd_w"]), ratio(r["ckpt"], r["dd_w"]),
                     secs(r["touch"]), secs(r["rst_hot"]), secs(r["dd_hot"]), ratio(r["rst_hot"], r["dd_hot"]),
                     secs(r.get("rst_cold")), secs(r["dd_cold"]),
                     ratio(r.get("rst_cold"), r["dd_cold"]), r["verify"]])
    print("1. Checkpoint and restart (seconds)")
    head = ["", "", "", "", "", "", "", "restart", "dd-read", "rst/dd",
            "restart", "dd-read", "rst/dd", ""]
    head2 = ["size", "kind", "ckpt", "image", "dd-write", "ckpt/dd", "touch",
             "hot", "hot", "hot", "cold", "cold", "cold", "verify"]
    errors = [r for r in rows if len(r) == 3]
    good = [r for r in rows if len(r) != 3]
    table([head, head2], good, right_from=2)
    for r in errors:
        print("%s %s  %s" % tuple(r))
    print()
    print("  ckpt: wall time of `cocoon checkpoint` (image written and fsync'd).")
    print("  dd-write: dd if=/dev/zero bs=1M conv=fsync of the same size, same directory.")
    print("  touch: a fresh process faulting in the same number of bytes (memset), the")
    print("         floor for any restart; measured just before the hot restart.")
    print("  restart: spawn of `cocoon restart` -> first byte the restored program writes.")
    print("  hot: image / dd file in page cache.  cold: after echo 3 > drop_caches."
          if COLD else "  hot: image / dd file in page cache (not root: no cold run).")
    print("  verify: the restored program re-checksums its memory (hot and cold runs).")
    print("  On a VM whose host backs guest memory lazily, buffered writes and restarts")
    print("  vary 2-3x between runs: see bench/README.md before trusting one ratio.")
    print()

    print("2. Runtime overhead, not checkpointing (ns/op; best of 2 programs x 3 loops of ~0.5 s)")
    try:
        ov = overhead()
        rows = [[name, "%.1f" % n, "-" if u is None else "%.1f" % u,
                 "-" if u is None else "%+.1f%%" % ((u / n - 1) * 100)] for name, n, u in ov]
        table(["operation", "native", "cocoon", "overhead"], rows, right_from=1)
    except (BenchError, subprocess.TimeoutExpired, OSError) as e:
        print("ERROR: %s" % e)
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        stop_coordinators()
