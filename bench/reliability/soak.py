"""Soak samples -> samples.csv and a least-squares trend per metric (per hour), over all samples and after warm-up.

Usage: soak.py soak-raw.txt soak-sim.txt samples.csv [soak-loadavg.txt]
soak-raw.txt: one line a minute from run.sh: minute epoch rss_kb fds threads pg_db pg_all system-json
soak-sim.txt: the simulator's output with --progress 60s; its n-th progress line covers minute n-1..n.
soak-loadavg.txt: epoch load1 load5 load15, about once a minute (the nearest line is joined to each sample).
"""
import csv
import json
import re
import sys

WARM_UP_MINUTES = 5
# A metric "grows" when the fitted line after warm-up rises by more than this share of its mean over that span.
GROWTH_SHARE = 0.05

raw_path, sim_path, csv_path = sys.argv[1:4]
loads = []
if len(sys.argv) > 4:
    with open(sys.argv[4]) as f:
        loads = [(int(p[0]), float(p[1])) for p in (line.split() for line in f) if len(p) >= 2]


def load_at(epoch):
    near = [l for l in loads if abs(l[0] - epoch) <= 90]
    return min(near, key=lambda l: abs(l[0] - epoch))[1] if near else ""

progress = re.compile(r"^\[\s*[\d.]+s\]\s+([\d.]+) req/s\s+([\d.]+) reports/s .*?errors (.*?)  p50 .*? p99 ([\d.]+) ms")
windows = []
with open(sim_path) as f:
    for line in f:
        m = progress.match(line)
        if m:
            windows.append((float(m.group(1)), float(m.group(4)), m.group(3).strip(), float(m.group(2))))

rows = []
with open(raw_path) as f:
    for line in f:
        parts = line.split(" ", 7)
        if len(parts) < 8:
            continue
        minute, epoch, rss_kb, fds, threads, pg_db, pg_all = (int(p) for p in parts[:7])
        try:
            ingestion = json.loads(parts[7]).get("ingestion", {})
        except ValueError:
            ingestion = {}
        sim = windows[minute - 1] if 0 < minute <= len(windows) else (None, None, "", None)
        rows.append({
            "minute": minute, "epoch": epoch, "rss_mb": round(rss_kb / 1024, 1), "fds": fds, "threads": threads,
            "pg_connections_app_db": pg_db, "pg_client_backends": pg_all,
            "writer_backlog": ingestion.get("writerBacklog", ""), "projection_backlog": ingestion.get("projectionBacklog", ""),
            "lag_p99_ms": ingestion.get("lagP99Ms", ""),
            "sim_req_per_s": sim[0] if sim[0] is not None else "", "sim_ok_reports_per_s": sim[3] if sim[3] is not None else "", "sim_p99_ms": sim[1] if sim[1] is not None else "",
            "sim_errors": sim[2], "machine_load1": load_at(epoch),
        })

with open(csv_path, "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0].keys()) if rows else ["minute"])
    w.writeheader()
    w.writerows(rows)


def fit(points):
    """Least squares y = a + b x; returns (slope per hour, mean, r2) for x in minutes."""
    n = len(points)
    if n < 3:
        return None
    xs = [p[0] / 60 for p in points]
    ys = [p[1] for p in points]
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    syy = sum((y - my) ** 2 for y in ys)
    slope = sxy / sxx if sxx else 0.0
    r2 = (sxy * sxy / (sxx * syy)) if sxx and syy else 0.0
    return slope, my, r2, (max(xs) - min(xs))


# Only the app's own resources get a verdict; the rest is context for reading them.
RESOURCES = {"rss_mb", "fds", "threads", "pg_connections_app_db", "pg_client_backends"}
metrics = ["machine_load1", "rss_mb", "fds", "threads", "pg_connections_app_db", "pg_client_backends", "projection_backlog", "lag_p99_ms", "sim_req_per_s", "sim_ok_reports_per_s", "sim_p99_ms"]
print(f"soak: {len(rows)} samples, one a minute; trend = least-squares slope per hour; warm-up = first {WARM_UP_MINUTES} minutes")
print(f"{'metric':24} {'first':>9} {'last':>9} {'min':>9} {'max':>9} {'mean':>9} {'slope/h all':>12} {'slope/h >5m':>12} {'% mean/h':>9} {'r2':>5}  verdict")
for name in metrics:
    points = [(r["minute"], float(r[name])) for r in rows if r[name] not in ("", None)]
    if not points:
        continue
    ys = [p[1] for p in points]
    all_fit = fit(points)
    after = fit([p for p in points if p[0] >= WARM_UP_MINUTES])
    verdict = "n/a (too few samples after warm-up)" if name in RESOURCES else "(context)"
    share = ""
    if after:
        slope, mean, r2, span = after
    if after and name in RESOURCES:
        share = f"{100 * slope / mean:.1f}" if mean else ""
        rise = slope * span
        if mean and abs(rise) <= GROWTH_SHARE * abs(mean):
            verdict = "flat"
        elif mean == 0 and slope == 0:
            verdict = "flat"
        else:
            verdict = ("grows" if slope > 0 else "falls") + f" ({rise:+.1f} over the {span * 60:.0f} min after warm-up, r2 {r2:.2f})"
    print(f"{name:24} {ys[0]:9.1f} {ys[-1]:9.1f} {min(ys):9.1f} {max(ys):9.1f} {sum(ys) / len(ys):9.1f} "
          f"{(f'{all_fit[0]:+.1f}' if all_fit else 'n/a'):>12} {(f'{after[0]:+.1f}' if after else 'n/a'):>12} {share:>9} {(f'{after[2]:.2f}' if after else ''):>5}  {verdict}")
