"""Requests the demo's web workers in turn, so their logs move."""

import os
import random
import time
import urllib.request

ports = [int(p) for p in os.environ["WEB_PORTS"].split(",")]
paths = ["/", "/store.py", "/missing", "/apps.py"]
while True:
    port = random.choice(ports)
    path = random.choice(paths)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
            print(f"GET :{port}{path} -> {response.status}")
    except Exception as exc:
        print(f"GET :{port}{path} -> {exc}")
    time.sleep(random.uniform(0.5, 2.0))
