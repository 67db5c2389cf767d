"""Run the benchmark as ``python -m bench`` from the repository root."""

from bench.run import main

main()
