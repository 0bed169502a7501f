#!/usr/bin/env python3
"""The baseline for scripts/bench-import.sh: the plain script a Jira admin would write.

Reads a CSV with the columns Name and Website and sends one `addcompany` per row, one after
the other, over one keep-alive-less urllib connection each, with no retries, no checks and no
report. Prints the wall time and the number of calls that did not answer success. Standard
library only, so anyone can run it:

    scripts/sequential.py BASE_URL FILE.csv [API_KEY] [USER]
"""
import csv
import json
import sys
import time
import urllib.parse
import urllib.request


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    base, path = sys.argv[1], sys.argv[2]
    api_key = sys.argv[3] if len(sys.argv) > 3 else "sandbox-key"
    user = sys.argv[4] if len(sys.argv) > 4 else "admin"
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    failed = 0
    start = time.monotonic()
    for row in rows:
        query = urllib.parse.urlencode(
            {
                "apiKey": api_key,
                "userName": user,
                "command": "addcompany",
                "clients-org_name": row["Name"],
                "clients-org_www": row.get("Website", ""),
            }
        )
        url = f"{base}/plugins/servlet/crm/api?{query}"
        try:
            with urllib.request.urlopen(url, timeout=30) as answer:
                if json.loads(answer.read()).get("success") is not True:
                    failed += 1
        except Exception:  # the baseline gives up on a row, as such scripts do
            failed += 1
    elapsed = time.monotonic() - start
    print(f"rows={len(rows)} failed={failed} seconds={elapsed:.3f}")
    return 0 if failed == 0 else 3


if __name__ == "__main__":
    sys.exit(main())
