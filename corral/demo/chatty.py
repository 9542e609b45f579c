"""Logs a lot, on both streams, like a busy service."""

import itertools
import random
import sys
import time

words = ["user", "order", "cart", "payment", "session", "cache", "query", "index", "shard", "queue"]
for n in itertools.count():
    word = random.choice(words)
    if n % 17 == 0:
        print(f"warning: slow {word} lookup took {random.randint(200, 900)}ms", file=sys.stderr)
    else:
        print(f"handled {word} #{n} in {random.randint(1, 40)}ms")
    time.sleep(random.uniform(0.02, 0.2))
