#!/usr/bin/env python3
"""Peak memory of `maverick batch` over a large input, run on demand.

    python3 benches/batch_memory.py            # 1,000,000 lines, -j 64
    LINES=10000 J=16 python3 benches/batch_memory.py

Builds the release binary, writes an input of LINES OpenAI Batch lines (a
short prompt each, a third of them streamed), starts `maverick mock` as its
own process, runs `maverick batch` against it and prints the batch
process's peak RSS (wait4 of that child alone: neither the mock's memory
nor the build's is counted), the wall time and the rate. The output is checked: one line
per custom_id. Input and output go to a temporary folder, removed after.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

LINES = int(os.environ.get("LINES", "1000000"))
J = os.environ.get("J", "64")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main() -> int:
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "maverick-cli"], cwd=ROOT, check=True)
    binary = os.path.join(ROOT, "target", "release", "maverick")
    work = tempfile.mkdtemp(prefix="maverick-batch-bench-")
    try:
        source = os.path.join(work, "input.jsonl")
        with open(source, "w") as f:
            for i in range(LINES):
                body = {"messages": [{"role": "user", "content": f"Label item {i}: positive or negative?"}], "max_tokens": 8}
                if i % 3 == 0:
                    body["stream"] = True
                f.write(json.dumps({"custom_id": f"item-{i}", "method": "POST", "url": "/v1/chat/completions", "body": body}))
                f.write("\n")
        size = os.path.getsize(source)
        mock = subprocess.Popen([binary, "mock"], stdout=subprocess.PIPE, text=True)
        try:
            address = mock.stdout.readline().strip().removeprefix("listening on ")
            output = os.path.join(work, "output.jsonl")
            env = dict(os.environ, AIML_API_KEY="bench")
            started = time.monotonic()
            batch = subprocess.Popen(
                [binary, "batch", source, "-o", output, "-j", J, "--base-url", f"{address}/v1"],
                env=env,
                stderr=subprocess.PIPE,
                text=True,
            )
            # The status lines are few (one every 5 s); read them as they come.
            stderr = batch.stderr.read()
            # wait4 gives this child's own peak, not the maximum over every
            # child waited for so far (cargo's build among them).
            _, status, usage = os.wait4(batch.pid, 0)
            wall = time.monotonic() - started
            peak_kib = usage.ru_maxrss
            code = os.waitstatus_to_exitcode(status)
        finally:
            mock.terminate()
            mock.wait()
        if code != 0:
            print(stderr[-2000:], file=sys.stderr)
            return 1
        ids = set()
        with open(output) as f:
            for line in f:
                ids.add(json.loads(line)["custom_id"])
        assert len(ids) == LINES, f"{len(ids)} answers for {LINES} lines"
        print(f"lines: {LINES:,} (input {size / 2**20:.0f} MiB), -j {J}")
        print(f"peak RSS of maverick batch: {peak_kib / 1024:.1f} MiB")
        print(f"wall: {wall:.1f} s ({LINES / wall:,.0f} requests/s against the mock on this machine)")
        print(stderr.strip().splitlines()[-1])
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
