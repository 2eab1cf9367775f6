#!/usr/bin/env python3
"""Cut vega-datasets' weather.csv (daily weather of Seattle and New York, 2012-2015) into
non-overlapping windows of 7 days, written as a gosde long-format CSV:

    id,t,temp_max,temp_min,wind

Get the file from the npm registry (no other network is needed):

    npm pack vega-datasets@3.2.1 && tar xzf vega-datasets-3.2.1.tgz
    python3 scripts/weather-windows.py package/data/weather.csv > weather-7d.csv
    gosde train --model sde-sigker --data weather-7d.csv

Precipitation is left out: it is zero on most days, a mass at zero that none of the
models here has. A window that would cross a missing day is dropped.
"""
import csv
import datetime
import sys

WINDOW = 7
CHANNELS = ["temp_max", "temp_min", "wind"]


def main(path):
    rows = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            day = datetime.date.fromisoformat(r["date"])
            rows.setdefault(r["location"], {})[day] = [r[c] for c in CHANNELS]
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["id", "t"] + CHANNELS)
    for loc in sorted(rows):
        days = rows[loc]
        first, last = min(days), max(days)
        start, k = first, 0
        while start + datetime.timedelta(days=WINDOW - 1) <= last:
            window = [start + datetime.timedelta(days=i) for i in range(WINDOW)]
            if all(d in days for d in window):
                for i, d in enumerate(window):
                    out.writerow([f"{loc.replace(' ', '_')}-{k}", i] + days[d])
                k += 1
            start += datetime.timedelta(days=WINDOW)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: weather-windows.py weather.csv > windows.csv")
    main(sys.argv[1])
