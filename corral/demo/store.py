"""A pretend database for the demo: announces itself, then reports now and then."""

import random
import signal
import sys
import time

signal.signal(signal.SIGTERM, lambda *_: (print("store: flushing and shutting down"), sys.exit(0)))
print("store: opening data files")
time.sleep(0.5)
print("store: accepting connections")
keys = 0
while True:
    time.sleep(random.uniform(2, 5))
    keys += random.randint(1, 50)
    print(f"store: {keys} keys, {random.randint(1, 9)} clients")
