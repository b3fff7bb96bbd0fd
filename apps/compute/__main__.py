"""``python -m apps.compute verify-audit``: check the compute audit chain of the database
``DATABASE_URL`` (or the suite's default) names. Exit status 0 when intact, 1 when broken."""

from __future__ import annotations

import argparse
import json
import sys

from apps.compute.audit import verify_chain
from credgate.config import load_settings
from credgate.db import make_engine, session_factory


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apps.compute")
    parser.add_argument("command", choices=["verify-audit"])
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    engine = make_engine(args.database_url or load_settings().database_url)
    try:
        report = verify_chain(session_factory(engine))
    finally:
        engine.dispose()
    print(json.dumps(report.to_json()))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
