"""`make bench`: the real stack on this machine, driven by wrk, measured and reported.

Not part of the test suite. `python -m bench.run --help` lists the parameters.
"""
