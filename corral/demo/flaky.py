"""Works for a few seconds, then crashes: the demo's crash loop with backoff."""

import random
import sys
import time

print("flaky: up, handling work")
for step in range(random.randint(2, 8)):
    time.sleep(1)
    print(f"flaky: step {step}")
print("flaky: something went wrong", file=sys.stderr)
sys.exit(random.choice([1, 2, 3]))
