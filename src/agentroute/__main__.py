"""``python -m agentroute``: the command line (see :mod:`agentroute._cli`)."""

from agentroute._cli import main

if __name__ == "__main__":
    raise SystemExit(main())
