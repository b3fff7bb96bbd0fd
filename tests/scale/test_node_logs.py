"""A node's log lines are JSON objects, one per line, also for an exception's traceback."""

from __future__ import annotations

import json
import logging
import sys

from credgate.metrics import JsonLines


def test_a_record_with_a_traceback_is_one_json_line():
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        record = logging.LogRecord(
            "credgate.test",
            logging.ERROR,
            __file__,
            1,
            "failed %s",
            ("x",),
            exc_info=sys.exc_info(),
        )
    line = JsonLines().format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["level"] == "error" and parsed["msg"] == "failed x"
    assert parsed["exc_type"] == "ValueError" and "bad" in parsed["exc"]
    assert parsed["ts"].endswith("Z")
