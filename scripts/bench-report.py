# Alternated runs of `hatang validate` and `hatang report` (each format) on target/nationwide:
# median wall time and median CPU time (user + sys of the child), the first round a warm-up.
# Usage: python3 scripts/bench-report.py [RUNS]   (after `cargo build --release -p hatang`)
import subprocess, time, statistics, sys, resource
runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
base = ["./target/release/hatang"]
cmds = {
  "validate": base + ["validate", "target/nationwide", "--today", "2026-12-06"],
}
for f in ["html", "md", "json", "csv"]:
    cmds["report " + f] = base + ["report", "target/nationwide", "--today", "2026-12-06", "--format", f, "--out", f"/tmp/nw.{f}"]
times = {k: [] for k in cmds}
cpu = {k: [] for k in cmds}
for i in range(runs + 1):
    for k, c in cmds.items():
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if i > 0:  # first round is warm-up
            times[k].append(time.perf_counter() - t)
            cpu[k].append((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
v = statistics.median(times["validate"])
vc = statistics.median(cpu["validate"])
for k, ts in times.items():
    m = statistics.median(ts)
    c = statistics.median(cpu[k])
    print(f"| {k} | {m*1000:.0f} ms ({min(ts)*1000:.0f}–{max(ts)*1000:.0f}) | {m/v:.2f} | {c*1000:.0f} ms | {c/vc:.2f} |")
