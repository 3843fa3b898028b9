"""Verifies recorded webhook deliveries with the reference Standard Webhooks library for Python
(PyPI `standardwebhooks`, pinned in requirements.txt).

    python verify.py <deliveries.json> <secret>

Same input and output as verify.mjs: each delivery is checked as of its own `webhook-timestamp`.
"""
import json
import sys
from datetime import datetime, timezone

import standardwebhooks.webhooks as sw


def check(delivery, secret):
    stamp = delivery["headers"].get("webhook-timestamp", "")
    real = sw.datetime

    class At(datetime):
        @classmethod
        def now(cls, tz=None):
            try:
                return datetime.fromtimestamp(float(stamp), tz=timezone.utc)
            except ValueError:
                return real.now(tz)

    sw.datetime = At
    try:
        payload = sw.Webhook(secret).verify(delivery["body"], delivery["headers"])
        return {"id": delivery["headers"].get("webhook-id"), "ok": True, "payload": payload}
    except Exception as e:  # the library's verification errors, and malformed input
        return {"id": delivery["headers"].get("webhook-id"), "ok": False, "error": str(e)}
    finally:
        sw.datetime = real


def main():
    path, secret = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        deliveries = json.load(f)
    for d in deliveries:
        print(json.dumps(check(d, secret)))


if __name__ == "__main__":
    main()
